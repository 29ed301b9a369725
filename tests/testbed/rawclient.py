"""A small raw-HTTP client for testbed tests: resolves through the testbed's hosts file, trusts
its CA, and sends hand-written MCP requests (no census code involved, so the tests check the
testbed alone)."""

from __future__ import annotations

import json
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from census.testbed import Testbed

UA = "census-testbed-tests/1.0"
DISCOVER_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


class HostsResolver(AbstractResolver):
    """Resolves only names in the testbed's hosts file (others raise like a DNS failure)."""

    def __init__(self, tb: Testbed) -> None:
        self._tb = tb

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        ip = self._tb.resolve(host)
        if ip is None:
            raise OSError(f"{host} does not resolve")
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def ssl_context(tb: Testbed) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tb.ca_bundle))


def session(tb: Testbed, timeout: float = 5.0) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        resolver=HostsResolver(tb), ssl=ssl_context(tb), force_close=True
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=timeout / 2),
        headers={"User-Agent": UA},
        auto_decompress=False,
    )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def message(self) -> dict[str, Any] | None:
        """The JSON-RPC response (JSON body, or the SSE frame carrying an id)."""
        for msg in self.messages:
            if "id" in msg:
                return msg
        return None


def parse_body(content_type: str, body: bytes) -> list[dict[str, Any]]:
    if content_type.startswith("application/json"):
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or absurdly deep (a hostile profile)
            return []
        return [obj] if isinstance(obj, dict) else []
    if content_type.startswith("text/event-stream"):
        out = []
        for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
            data = [ln[5:].strip() for ln in block.split(b"\n") if ln.startswith(b"data:")]
            payload = b"\n".join(data)
            if payload:
                try:
                    out.append(json.loads(payload))
                except (ValueError, RecursionError):
                    continue
        return out
    return []


async def post(
    s: aiohttp.ClientSession,
    url: str,
    msg: dict[str, Any],
    headers: dict[str, str] | None = None,
    modern: bool = False,
) -> Answer:
    hdrs = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if modern:
        hdrs.update({"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": msg["method"]})
        msg = {**msg, "params": {**msg.get("params", {}), "_meta": DISCOVER_META}}
    hdrs.update(headers or {})
    async with s.post(url, data=json.dumps(msg), headers=hdrs, allow_redirects=False) as r:
        body = b""
        while len(body) < 2_000_000 and (chunk := await r.content.read(65536)):
            body += chunk
        return Answer(
            r.status, dict(r.headers), body, parse_body(r.headers.get("Content-Type", ""), body)
        )


def initialize(version: str = "2025-11-25", id_: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": id_,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "tests", "version": "1"},
        },
    }


def request(method: str, id_: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params or {}}
