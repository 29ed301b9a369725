"""Build synthetic exchanges and evidence for classifier table tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from census.records import Evidence, Exchange

URL = "https://mcp.example.com/mcp"


def x(
    step: str,
    status: int | None = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    error: str | None = None,
    method: str = "POST",
    request_headers: dict[str, str] | None = None,
    url: str = URL,
    retried: tuple[dict[str, Any], ...] = (),
    sse: bool = False,
) -> Exchange:
    text: str | None
    if body is None or isinstance(body, str):
        text = body
    elif sse:
        text = f"id: 1\r\ndata:\r\n\r\nevent: message\r\ndata: {json.dumps(body)}\r\n\r\n"
    else:
        text = json.dumps(body)
    content_type = "text/event-stream" if sse else "application/json"
    return Exchange(
        step=step,
        method=method,
        url=url,
        request_headers=request_headers or {},
        status=status,
        response_headers={"content-type": content_type, **(headers or {})},
        body=text,
        error=error,
        retried=retried,
        timings_ms={"first_byte": 5.0},
    )


def ev(*exchanges: Exchange, url: str = URL, **notes: Any) -> Evidence:
    answered = any(e.status is not None for e in exchanges)
    tls = (
        {"verified": True, "issuer": "Test CA", "days_left": 42}
        if url.startswith("https") and answered
        else {}
    )
    return Evidence(url, datetime(2026, 11, 21, tzinfo=UTC), tuple(exchanges), tls, dict(notes))


def ok(rpc_id: int, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rpc_id, "result": result}


def err(rpc_id: Any, code: int, message: str = "", data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": rpc_id, "error": error}


DISCOVER_OK = ok(
    1,
    {
        "supportedVersions": ["2026-07-28"],
        "capabilities": {"tools": {}},
        "resultType": "complete",
        "ttlMs": 0,
        "cacheScope": "private",
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "srv", "version": "1.2"}},
    },
)
INIT_OK = ok(
    2,
    {
        "protocolVersion": "2025-06-18",
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "srv", "version": "1.2"},
    },
)
METHOD_NOT_FOUND_404 = err(2, -32601, "Method not found", "initialize")
SDK1_MISSING_SESSION = err("server-error", -32600, "Bad Request: Missing session ID")


def tools_page(rpc_id: int, n: int, cursor: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "tools": [{"name": f"t{i}", "inputSchema": {"type": "object"}} for i in range(n)]
    }
    if cursor:
        result["nextCursor"] = cursor
    return ok(rpc_id, result)
