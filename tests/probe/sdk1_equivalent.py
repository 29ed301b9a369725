"""An equivalent of the handshake-only SDK line (`mcp` 1.x) for the prober's tests.

Written from the behaviour recorded in shared/docs (sdk-wire-transcript.txt, modern-era-reference
§2.1/§3, probing-reference §9.1): Streamable HTTP in JSON or SSE mode, stateful or stateless,
`"id":"server-error"` transport errors, an `Mcp-Session-Id` minted even on a refused request,
the DNS-rebinding guard (403 for a foreign Origin), and the 2024-11-05 HTTP+SSE transport.
It never speaks 2026-07-28: `server/discover` gets the same refusals 1.x gives.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import web

__all__ = ["sdk1_app"]

SUPPORTED = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
TOOLS = [
    {"name": f"tool_{i}", "description": f"Tool {i}.", "inputSchema": {"type": "object"}}
    for i in range(4)
]
CAPABILITIES = {"tools": {"listChanged": False}, "prompts": {"listChanged": False}}
PROMPTS = [{"name": "hello", "description": "Say hello."}]


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"jsonrpc": "2.0", "id": "server-error", "error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


def _result(message: dict[str, Any], version: str) -> dict[str, Any]:
    method = message.get("method")
    if method == "initialize":
        requested = (message.get("params") or {}).get("protocolVersion")
        return {
            "protocolVersion": requested if requested in SUPPORTED else SUPPORTED[-1],
            "capabilities": CAPABILITIES,
            "serverInfo": {"name": "sdk1-equivalent", "version": "1.29.0"},
        }
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "prompts/list":
        return {"prompts": PROMPTS}
    if method == "ping":
        return {}
    raise KeyError(method)


def _answer(message: dict[str, Any], version: str) -> dict[str, Any]:
    try:
        return {"jsonrpc": "2.0", "id": message.get("id"), "result": _result(message, version)}
    except KeyError:
        return {
            "jsonrpc": "2.0",
            "id": message.get("id"),
            "error": {"code": -32602, "message": "Invalid request parameters", "data": ""},
        }


def sdk1_app(*, stateless: bool, json_response: bool) -> web.Application:
    sessions: set[str] = set()
    streams: dict[str, asyncio.Queue[dict[str, Any]]] = {}

    def guard(request: web.Request) -> web.Response | None:
        origin = request.headers.get("Origin")
        if origin is not None and not origin.startswith(("http://127.0.0.1:", "http://localhost:")):
            return web.Response(status=403, text="Invalid Origin header")
        return None

    async def mcp(request: web.Request) -> web.StreamResponse:
        refused = guard(request)
        if refused is not None:
            return refused
        if request.method == "DELETE":
            if stateless:
                return _error(405, -32600, "Method Not Allowed: Session termination not supported")
            sessions.discard(request.headers.get("Mcp-Session-Id", ""))
            return web.Response(status=200)
        if request.method != "POST":
            return web.Response(status=405, headers={"Allow": "GET, POST, DELETE"})
        accept = request.headers.get("Accept", "")
        if "application/json" not in accept or (
            not json_response and "text/event-stream" not in accept
        ):
            return _error(406, -32600, "Not Acceptable: Client must accept both types")
        message = json.loads(await request.read())
        header_version = request.headers.get("MCP-Protocol-Version")
        session = request.headers.get("Mcp-Session-Id")
        headers: dict[str, str] = {}
        if not stateless:
            if message.get("method") == "initialize":
                session = uuid.uuid4().hex
                sessions.add(session)
            elif session is None:
                minted = uuid.uuid4().hex  # 1.x mints an id even on this refusal
                return _error(
                    400, -32600, "Bad Request: Missing session ID", {"mcp-session-id": minted}
                )
            elif session not in sessions:
                return _error(404, -32600, "Session not found")
            headers["mcp-session-id"] = session
        if header_version is not None and header_version not in SUPPORTED:
            return _error(
                400, -32600, f"Bad Request: Unsupported protocol version: {header_version}", headers
            )
        if "id" not in message:
            return web.Response(status=202, headers=headers)
        answer = _answer(message, header_version or "2025-03-26")
        if json_response:
            return web.json_response(answer, headers=headers)
        resp = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(f"event: message\r\ndata: {json.dumps(answer)}\r\n\r\n".encode())
        await resp.write_eof()
        return resp

    async def sse(request: web.Request) -> web.StreamResponse:
        refused = guard(request)
        if refused is not None:
            return refused
        if request.method != "GET":
            return web.Response(
                status=405, text="Method Not Allowed", headers={"Allow": "GET, HEAD"}
            )
        session = uuid.uuid4().hex
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        streams[session] = queue
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        try:
            await resp.write(
                f"event: endpoint\r\ndata: /messages/?session_id={session}\r\n\r\n".encode()
            )
            while True:
                answer = await queue.get()
                await resp.write(f"event: message\r\ndata: {json.dumps(answer)}\r\n\r\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            streams.pop(session, None)
        return resp

    async def messages(request: web.Request) -> web.Response:
        queue = streams.get(request.query.get("session_id", ""))
        if queue is None:
            return web.Response(status=404, text="Could not find session")
        message = json.loads(await request.read())
        if "id" in message:
            queue.put_nowait(_answer(message, "2024-11-05"))
        return web.Response(status=202, text="Accepted")

    app = web.Application()
    app.router.add_route("*", "/mcp", mcp)
    app.router.add_route("*", "/sse", sse)
    app.router.add_route("POST", "/messages/", messages)
    return app
