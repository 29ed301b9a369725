"""A scripted MCP server on loopback for the hostile-answer tests: a stateless handshake-era
server (JSON answers) whose answers a test bends one way at a time, and an HTTP+SSE mode.

Every knob is one misbehaviour seen on real endpoints (issue 12); unset knobs give a
well-behaved server, so each test changes exactly one thing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Script", "scripted_app"]

VERSION = "2025-11-25"


def _tools(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"name": f"t{i}", "description": f"Tool {i}.", "inputSchema": {"type": "object"}}
        for i in range(start, start + n)
    ]


@dataclass
class Script:
    #: the InitializeResult (a well-behaved one by default)
    init_result: dict[str, Any] = field(
        default_factory=lambda: {
            "protocolVersion": VERSION,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "scripted", "version": "1.0"},
        }
    )
    #: tools/list pages (each but the last carries a nextCursor)
    pages: list[list[dict[str, Any]]] = field(default_factory=lambda: [_tools(3)])
    #: from this page on, tools/list never answers (the target deadline cuts the listing)
    hang_from_page: int | None = None
    #: list answers carry another request's id
    wrong_list_id: bool = False
    #: every POST is answered 503 with this Retry-After
    retry_after_503: str | None = None
    #: serve HTTP+SSE instead: POST /mcp is 405, GET /mcp streams this `endpoint` event
    legacy_endpoint: str | None = None
    #: the data of the reply to a legacy `initialize` (None: a proper InitializeResult)
    legacy_reply: str | None = None
    #: the MCP request is answered 401 naming this server's protected-resource metadata;
    #: the authorization-server metadata carries this much padding
    oauth_padding: int | None = None
    requests: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)


def _rpc(rpc_id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rpc_id, "result": result}


def scripted_app(script: Script) -> web.Application:
    streams: dict[str, asyncio.Queue[str]] = {}

    async def mcp(request: web.Request) -> web.StreamResponse:
        script.requests.append(f"{request.method} {request.path}")
        if script.legacy_endpoint is not None:
            return await legacy_get(request)
        if request.method != "POST":
            return web.Response(status=405)
        if script.retry_after_503 is not None:
            return web.Response(status=503, headers={"Retry-After": script.retry_after_503})
        if script.oauth_padding is not None:
            base = f"http://{request.host}"
            return web.json_response(
                {"error": "unauthorized"},
                status=401,
                headers={"WWW-Authenticate": f'Bearer resource_metadata="{base}/.well-known/prm"'},
            )
        message = json.loads(await request.read())
        method, rpc_id = message.get("method"), message.get("id")
        if rpc_id is None:
            return web.Response(status=202)
        if method == "initialize":
            return web.json_response(_rpc(rpc_id, script.init_result))
        if method == "tools/list":
            cursor = (message.get("params") or {}).get("cursor")
            index = 0 if cursor is None else int(cursor)
            if script.hang_from_page is not None and index >= script.hang_from_page:
                await script.release.wait()  # never set by the test: the page never comes
            result: dict[str, Any] = {"tools": script.pages[index]}
            if index + 1 < len(script.pages):
                result["nextCursor"] = str(index + 1)
            answer_id = rpc_id + 1000 if script.wrong_list_id else rpc_id
            return web.json_response(_rpc(answer_id, result))
        if method == "ping":
            return web.json_response(_rpc(rpc_id, {}))
        return web.json_response(
            {"jsonrpc": "2.0", "id": rpc_id, "error": {"code": -32601, "message": "no"}}
        )

    async def legacy_get(request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            return web.Response(status=405)
        queue: asyncio.Queue[str] = asyncio.Queue()
        streams["s"] = queue
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        try:
            await resp.write(f"event: endpoint\ndata: {script.legacy_endpoint}\n\n".encode())
            while True:
                data = await queue.get()
                await resp.write(f"event: message\ndata: {data}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def messages(request: web.Request) -> web.Response:
        script.requests.append(f"{request.method} {request.path}")
        message = json.loads(await request.read())
        queue = streams.get("s")
        if queue is not None and "id" in message:
            if message.get("method") == "initialize" and script.legacy_reply is not None:
                queue.put_nowait(script.legacy_reply)
            elif message.get("method") == "tools/list":
                queue.put_nowait(json.dumps(_rpc(message["id"], {"tools": script.pages[0]})))
            else:
                queue.put_nowait(json.dumps(_rpc(message["id"], script.init_result)))
        return web.Response(status=202)

    async def prm(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        return web.json_response(
            {"resource": f"{base}/mcp", "authorization_servers": [f"{base}/as"]}
        )

    async def as_metadata(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        return web.json_response(
            {
                "issuer": f"{base}/as",
                "authorization_endpoint": f"{base}/as/authorize",
                "token_endpoint": f"{base}/as/token",
                "registration_endpoint": f"{base}/as/register",
                "code_challenge_methods_supported": ["S256"],
                # Real servers list dozens of scopes, claims and signing algorithms.
                "scopes_supported": [f"scope-{i}" for i in range(script.oauth_padding or 0)],
            }
        )

    app = web.Application()
    app.router.add_route("*", "/mcp", mcp)
    app.router.add_route("POST", "/messages", messages)
    app.router.add_get("/.well-known/prm", prm)
    app.router.add_get("/.well-known/oauth-authorization-server/as", as_metadata)
    return app
