"""Real `mcp` 2.3.0 servers on loopback for the prober's tests (uvicorn in a thread).

The listening socket is bound and put in listen state before the server thread starts, so the
first request simply queues until uvicorn accepts it: no waiting or polling for readiness.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.mcpserver import MCPServer

__all__ = ["SDKServer", "sdk_server"]


@dataclass(frozen=True)
class SDKServer:
    url: str
    port: int


class _NoTokens:
    """A token verifier that accepts nothing: the census never has credentials."""

    async def verify_token(self, token: str) -> AccessToken | None:
        return None


class _Provider:
    """The minimum of an authorization-server provider to get the SDK's AS metadata routes."""

    async def get_client(self, client_id: str) -> Any:
        return None

    async def register_client(self, client_info: Any) -> None:
        raise NotImplementedError

    async def authorize(self, client: Any, params: Any) -> str:
        raise NotImplementedError

    async def load_authorization_code(self, client: Any, code: str) -> Any:
        return None

    async def exchange_authorization_code(self, client: Any, code: Any) -> Any:
        raise NotImplementedError

    async def load_refresh_token(self, client: Any, token: str) -> Any:
        return None

    async def exchange_refresh_token(self, client: Any, token: Any, scopes: Any) -> Any:
        raise NotImplementedError

    async def load_access_token(self, token: str) -> Any:
        return None

    async def revoke_token(self, token: Any) -> None:
        return None


def _app(
    port: int,
    transport: Literal["streamable", "sse"],
    json_response: bool,
    stateless: bool,
    auth: Literal["none", "resource_server", "full"],
    tools: int,
) -> Any:
    base = f"http://127.0.0.1:{port}"
    kwargs: dict[str, Any] = {}
    if auth != "none":
        kwargs["auth"] = AuthSettings(
            issuer_url=base,  # type: ignore[arg-type]
            resource_server_url=f"{base}/mcp",  # type: ignore[arg-type]
            validate_token_resource=False,
            client_registration_options=ClientRegistrationOptions(enabled=True),
        )
        if auth == "full":
            kwargs["auth_server_provider"] = _Provider()
        else:
            kwargs["token_verifier"] = _NoTokens()
    server = MCPServer("census-sdk-test", version="2.3.0-test", **kwargs)
    for i in range(tools):

        def tool(a: int, b: int) -> int:
            return a + b

        tool.__name__ = f"add_{i}"
        tool.__doc__ = f"Add two integers (tool {i})."
        server.tool()(tool)

    @server.prompt()
    def greet(name: str) -> str:
        """A greeting prompt."""
        return f"Hello {name}"

    if transport == "sse":
        return server.sse_app()
    return server.streamable_http_app(json_response=json_response, stateless_http=stateless)


@contextmanager
def sdk_server(
    *,
    transport: Literal["streamable", "sse"] = "streamable",
    json_response: bool = False,
    stateless: bool = False,
    auth: Literal["none", "resource_server", "full"] = "none",
    tools: int = 3,
) -> Iterator[SDKServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    app = _app(port, transport, json_response, stateless, auth, tools)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    path = "/sse" if transport == "sse" else "/mcp"
    try:
        yield SDKServer(f"http://127.0.0.1:{port}{path}", port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
