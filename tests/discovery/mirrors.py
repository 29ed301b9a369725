"""Small real HTTP servers on loopback that imitate discovery sources, with planted faults.

:class:`RegistryMirror` serves a list of registry items in the official API's shape
(``/v0.1/servers``, pages of ``limit`` ≤ 100, opaque random cursors, ``version=latest`` and
``updated_since`` honoured) and can misbehave on chosen pages: a malformed body, a 500 (once or
always), a 429 with ``Retry-After``, a cursor that loops back.  Every request is recorded with
its arrival time so tests can check politeness.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

OFFICIAL = "io.modelcontextprotocol.registry/official"


@dataclass
class Faults:
    malformed: set[int] = field(default_factory=set)  # pages (1-based) answered with garbage
    fail_once: set[int] = field(default_factory=set)  # pages answered 500 the first time
    fail_always: set[int] = field(default_factory=set)  # pages answered 500 every time
    rate_limited: dict[int, int] = field(default_factory=dict)  # page → Retry-After seconds
    loop_after: int | None = None  # this page's nextCursor points back to page 2's cursor


@dataclass
class Request:
    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class RegistryMirror:
    def __init__(
        self,
        items: Sequence[dict[str, Any]],
        faults: Faults | None = None,
        *,
        honour_version: bool = True,
    ) -> None:
        self.items = list(items)
        self.honour_version = honour_version
        self.faults = faults or Faults()
        self.requests: list[Request] = []
        self._cursors: dict[str, int] = {}  # opaque cursor → offset
        self._cursor_of_page: dict[int, str] = {}
        self._failed_once: set[int] = set()
        self._limited_once: set[int] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v0.1/servers", self._list)
        return app

    def _visible(self, query: dict[str, str]) -> list[dict[str, Any]]:
        items = self.items
        if query.get("version") == "latest" and self.honour_version:
            items = [i for i in items if i.get("_meta", {}).get(OFFICIAL, {}).get("isLatest")]
        since = query.get("updated_since")
        if since:
            items = [i for i in items if i["_meta"][OFFICIAL].get("updatedAt", "") > since]
        return items

    async def _list(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.requests.append(Request(time.monotonic(), request.path, query, dict(request.headers)))
        limit = min(int(query.get("limit", "30")), 100)
        cursor = query.get("cursor")
        if cursor is not None and cursor not in self._cursors:
            return web.json_response({"title": "Invalid cursor parameter"}, status=400)
        offset = self._cursors.get(cursor, 0) if cursor else 0
        page = offset // limit + 1
        f = self.faults
        if page in f.rate_limited and page not in self._limited_once:
            self._limited_once.add(page)
            return web.json_response(
                {"title": "Too Many Requests"},
                status=429,
                headers={"Retry-After": str(f.rate_limited[page])},
            )
        if page in f.fail_always or (page in f.fail_once and page not in self._failed_once):
            self._failed_once.add(page)
            return web.Response(status=500, text="internal error")
        if page in f.malformed:
            return web.Response(text='{"servers": [{"server": ', content_type="application/json")
        visible = self._visible(query)
        chunk = visible[offset : offset + limit]
        metadata: dict[str, Any] = {"count": len(chunk)}
        if offset + limit < len(visible):
            if f.loop_after == page and 2 in self._cursor_of_page:
                metadata["nextCursor"] = self._cursor_of_page[2]
            else:
                token = secrets.token_urlsafe(12)
                self._cursors[token] = offset + limit
                self._cursor_of_page[page + 1] = token
                metadata["nextCursor"] = token
        return web.json_response({"servers": chunk, "metadata": metadata})


@asynccontextmanager
async def serve(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Run ``app`` on an OS-chosen port of ``host``; yields its base URL; always cleans up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def static_app(routes: dict[str, Callable[[web.Request], Any]]) -> web.Application:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    return app


def load_items(path: Any) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data if isinstance(data, list) else data["servers"]
