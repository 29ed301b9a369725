"""The official Python SDK (`mcp` 1.x: FastMCP; 2.x: MCPServer), served as its docs show.

Usage: python py_mcp.py <default|stateless-json|sse|rebinding-off>.  Prints "PORT <n>" once
listening on 127.0.0.1 (an OS-chosen port); uvicorn then serves the already-listening socket.
"""

import socket
import sys

import uvicorn

try:  # 2.x
    from mcp.server.mcpserver import MCPServer as Server
except ImportError:  # 1.x
    from mcp.server.fastmcp import FastMCP as Server  # type: ignore[no-redef]

config = sys.argv[1]
stateless = config == "stateless-json"
v1 = Server.__module__.startswith("mcp.server.fastmcp")
options: dict[str, object] = {"json_response": stateless, "stateless_http": stateless}
if config == "rebinding-off":
    # What deployments behind a proxy do: the SDK's DNS-rebinding (Host/Origin) guard, on by
    # default for a loopback host, switched off.
    from mcp.server.transport_security import TransportSecuritySettings

    options["transport_security"] = TransportSecuritySettings(enable_dns_rebinding_protection=False)
# 1.x takes the HTTP options in the constructor, 2.x in streamable_http_app().
server = Server("py-mcp", **(options if v1 else {}))  # type: ignore[arg-type]


@server.tool()
def echo(text: str) -> str:
    """Echo a text."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


if config == "sse":
    app = server.sse_app()
elif v1:
    app = server.streamable_http_app()
else:
    app = server.streamable_http_app(**options)  # type: ignore[arg-type]

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)
print(f"PORT {sock.getsockname()[1]}", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
