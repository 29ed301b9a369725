"""Small real HTTP servers on loopback for the network layer's tests."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

__all__ = ["serve"]


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 at an OS-chosen port; yields the base URL; always cleaned up."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def hostile_app() -> web.Application:
    app = web.Application()
    state = {"flaky": 0}

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        chunk = b"0," * 32768
        try:
            for _ in range(2000):  # 128 MiB if nobody stops reading
                await resp.write(chunk)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def bomb(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b"\0" * (32 << 20)),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        try:
            for _ in range(600):
                await resp.write(b" ")
                await asyncio.sleep(0.1)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def endless_sse(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {}}
        answer = {"jsonrpc": "2.0", "id": body["id"], "result": {"ok": True}}
        try:
            await resp.write(b"id: 1\r\ndata:\r\n\r\n")  # priming
            await resp.write(f"event: message\r\ndata: {json.dumps(note)}\r\n\r\n".encode())
            await resp.write(f"event: message\r\ndata: {json.dumps(answer)}\r\n\r\n".encode())
            while True:  # never closes
                await resp.write(b": keepalive\r\n\r\n")
                await asyncio.sleep(0.05)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def flaky(request: web.Request) -> web.Response:
        state["flaky"] += 1
        if state["flaky"] == 1:
            return web.Response(status=503, headers={"Retry-After": "0"})
        return web.json_response({"attempt": state["flaky"]})

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": "/elsewhere"})

    async def headers(request: web.Request) -> web.Response:
        return web.Response(text="{}", headers={f"X-Pad-{i}": "p" * 6000 for i in range(8)})

    async def bad_utf8(request: web.Request) -> web.Response:
        return web.Response(body=b'{"a": "\xff\xfe"}', content_type="application/json")

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {"headers": dict(request.headers), "body": (await request.read()).decode()}
        )

    for path, handler in [
        ("/big", big),
        ("/bomb", bomb),
        ("/trickle", trickle),
        ("/sse", endless_sse),
        ("/flaky", flaky),
        ("/redirect", redirect),
        ("/headers", headers),
        ("/bad-utf8", bad_utf8),
        ("/echo", echo),
    ]:
        app.router.add_route("*", path, handler)
    return app
