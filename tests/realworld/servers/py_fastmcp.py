"""FastMCP (Python, the standalone `fastmcp` project), served as its docs show.

Usage: python py_fastmcp.py <default|stateless-json|sse|remote-auth|origin-protection>.
Prints "PORT <n>" once listening on 127.0.0.1 (an OS-chosen port).
"""

import socket
import sys

import uvicorn
from fastmcp import FastMCP

config = sys.argv[1]
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)
port = sock.getsockname()[1]
base = f"http://127.0.0.1:{port}"

auth = None
if config == "remote-auth":
    # A resource server trusting an authorization server elsewhere: FastMCP's RemoteAuthProvider
    # publishes RFC 9728 metadata and answers 401 with a Bearer challenge.  The authorization
    # server named is this same loopback origin, which serves no RFC 8414 document (so nothing
    # off the machine is ever looked up).
    from fastmcp.server.auth import RemoteAuthProvider
    from fastmcp.server.auth.providers.jwt import JWTVerifier

    auth = RemoteAuthProvider(
        token_verifier=JWTVerifier(public_key="-" * 8, issuer=base),
        authorization_servers=[base],  # type: ignore[list-item]
        base_url=base,
    )

server = FastMCP("py-fastmcp", auth=auth)


@server.tool
def echo(text: str) -> str:
    """Echo a text."""
    return text


@server.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool
def now() -> str:
    """Say what time it is."""
    return "now"


if config == "sse":
    app = server.http_app(transport="sse")
elif config == "stateless-json":
    app = server.http_app(json_response=True, stateless_http=True)
elif config == "origin-protection":
    # Its Host/Origin guard switched on (off unless FastMCP knows it runs on a loopback host).
    app = server.http_app(host_origin_protection=True)
else:
    app = server.http_app()

print(f"PORT {port}", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
