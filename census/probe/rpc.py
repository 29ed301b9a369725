"""JSON-RPC requests the census may send, and the per-target context every step writes to.

Politeness is enforced here, where requests are built: only allowlisted methods, no credentials,
no ``Origin`` unless a step explicitly tests Origin handling, nothing in query strings.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from census import __version__
from census.classify.wire import HANDSHAKE_VERSION, MODERN_VERSION
from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.records import Exchange

__all__ = ["ALLOWED_METHODS", "ProbeRun", "handshake_request", "modern_request"]

#: The only JSON-RPC methods the census ever sends (read-only; no tools/call, no registration).
ALLOWED_METHODS = frozenset(
    {
        "server/discover",
        "initialize",
        "notifications/initialized",
        "tools/list",
        "resources/list",
        "prompts/list",
        "ping",
    }
)
_FORBIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
ACCEPT_BOTH = "application/json, text/event-stream"
CLIENT_INFO = {"name": "census", "version": __version__}


def _check(method: str) -> None:
    if method not in ALLOWED_METHODS:
        raise ValueError(f"census never sends {method!r}")


def modern_request(
    rpc_id: int, method: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A 2026-07-28 request: the `_meta` envelope on every request."""
    _check(method)
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {
        "jsonrpc": "2.0",
        "id": rpc_id,
        "method": method,
        "params": {**(params or {}), "_meta": meta},
    }


def modern_headers(method: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Accept": ACCEPT_BOTH,
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": method,
    }


def handshake_request(
    rpc_id: int | None, method: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A handshake-era request (or notification when ``rpc_id`` is None)."""
    _check(method)
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if rpc_id is not None:
        message["id"] = rpc_id
    if params is not None:
        message["params"] = params
    return message


def initialize_params(version: str = HANDSHAKE_VERSION) -> dict[str, Any]:
    # Empty capabilities: declaring sampling/roots would invite server->client requests.
    return {"protocolVersion": version, "capabilities": {}, "clientInfo": CLIENT_INFO}


def handshake_headers(session_id: str | None = None, version: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH}
    if session_id is not None:
        headers["Mcp-Session-Id"] = session_id
    if version is not None:
        headers["MCP-Protocol-Version"] = version
    return headers


@dataclass
class ProbeRun:
    """Per-target state: the endpoint URL in use, the evidence log, request ids."""

    client: ProbeClient
    url: str
    exchanges: list[Exchange] = field(default_factory=list)
    tls: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def settings(self) -> ProbeSettings:
        return self.client.settings

    def next_id(self) -> int:
        return next(self._ids)

    def record(self, exchange: Exchange) -> Exchange:
        self.exchanges.append(exchange)
        return exchange

    async def send(
        self,
        step: str,
        method: str,
        url: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        rpc_id: int | None = None,
        keep_body: int | None = None,
        large: bool = False,
    ) -> Exchange:
        """Send through the shared client and record the exchange."""
        sent = headers or {}
        if any(name.lower() in _FORBIDDEN_HEADERS for name in sent):
            raise ValueError("census never sends credentials")
        exchange = await self.client.send(
            step,
            method,
            url or self.url,
            headers=sent,
            json_body=json_body,
            rpc_id=rpc_id,
            keep_body=keep_body,
            tls_info=self.tls,
            large=large,
        )
        return self.record(exchange)
