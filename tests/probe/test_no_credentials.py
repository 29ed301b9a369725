"""No credential ever leaves census: URLs census did not choose may carry userinfo
(``user:password@``) — a same-origin redirect, a legacy SSE ``endpoint`` event, a
``resource_metadata`` link — and aiohttp would turn it into ``Authorization: Basic``.  A real
loopback server records every request it receives; none may carry ``Authorization``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp import web

from census.config import ProbeSettings
from census.net.client import ProbeClient, without_userinfo
from census.probe.plan import probe
from tests.net.servers import serve

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _credential_app(seen: list[tuple[str, str, str | None]]) -> web.Application:
    replies: asyncio.Queue[str] = asyncio.Queue()

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append((request.method, request.path, request.headers.get("Authorization")))
        return await handler(request)

    async def slash(request: web.Request) -> web.Response:
        # Same origin, the /mcp/ -> /mcp twin census follows, with credentials in it.
        raise web.HTTPTemporaryRedirect(f"http://alice:s3cret@{request.host}/mcp")

    async def wall(request: web.Request) -> web.Response:
        link = f"http://bob:s3cret@{request.host}/prm"
        return web.Response(
            status=401, headers={"WWW-Authenticate": f'Bearer resource_metadata="{link}"'}
        )

    async def legacy_post(request: web.Request) -> web.Response:
        return web.Response(status=405)

    async def legacy_stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        endpoint = f"http://:s3cret@{request.host}/messages?session=1"
        await resp.write(f"event: endpoint\ndata: {endpoint}\n\n".encode())
        try:
            while True:
                await resp.write(f"event: message\ndata: {await replies.get()}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def messages(request: web.Request) -> web.Response:
        body = await request.json()
        if "id" in body:
            result = {
                "protocolVersion": "2024-11-05",
                "capabilities": {},
                "serverInfo": {"name": "legacy", "version": "1"},
            }
            await replies.put(json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}))
        return web.Response(status=202)

    app = web.Application(middlewares=[record])
    app.router.add_post("/mcp/", slash)
    app.router.add_post("/mcp", wall)
    app.router.add_post("/sse", legacy_post)
    app.router.add_get("/sse", legacy_stream)
    app.router.add_post("/messages", messages)
    return app


@pytest.fixture
async def credential_server() -> AsyncIterator[tuple[str, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    async with serve(_credential_app(seen)) as base:
        yield base, seen


@pytest.mark.anyio
async def test_no_request_carries_authorization_whatever_urls_the_server_hands_out(
    credential_server: tuple[str, list[tuple[str, str, str | None]]],
) -> None:
    base, seen = credential_server
    settings = replace(
        ProbeSettings(),
        allow_private=True,
        step_deadline=3.0,
        target_deadline=20.0,
        sse_endpoint_wait=3.0,
        ratelimit_requests=0,
    )
    async with ProbeClient(settings) as client:
        redirected = await probe(f"{base}/mcp/", settings, client)
        legacy = await probe(f"{base}/sse", settings, client)

    paths = {(method, path) for method, path, _ in seen}
    # Each credential-bearing URL was requested (without its credentials) ...
    assert ("POST", "/mcp") in paths  # the redirect target
    assert ("GET", "/prm") in paths  # the resource_metadata link
    assert ("POST", "/messages") in paths  # the legacy endpoint event
    # ... and not one request census sent carried a credential.
    assert [entry for entry in seen if entry[2] is not None] == []
    # The evidence says which requests lost their userinfo, and never stores the secret.
    stripped = {
        (x.method, x.url.removeprefix(base))
        for evidence in (redirected, legacy)
        for x in evidence.exchanges
        if x.userinfo_stripped
    }
    assert ("POST", "/mcp") in stripped
    assert ("GET", "/prm") in stripped
    assert ("POST", "/messages?session=1") in stripped
    for evidence in (redirected, legacy):
        assert all("s3cret" not in x.url for x in evidence.exchanges)
        # The notes census writes (where a redirect or an endpoint event pointed) keep the URL
        # without its credential: only the server's own answer, quoted raw, still holds it.
        assert "s3cret" not in json.dumps(evidence.notes), evidence.notes
    assert redirected.notes.get("redirected_to", "").endswith("/mcp")
    assert legacy.notes.get("legacy_sse_endpoint", "").endswith("/messages?session=1")


@pytest.mark.parametrize(
    ("url", "sent", "stripped"),
    [
        ("http://user:pw@h.example/mcp", "http://h.example/mcp", True),
        ("http://:pw@h.example/mcp", "http://h.example/mcp", True),
        ("http://token@h.example/mcp", "http://h.example/mcp", True),
        ("http://h.example/mcp?next=a@b", "http://h.example/mcp?next=a@b", False),
        ("http://h.example/mcp", "http://h.example/mcp", False),
    ],
)
def test_userinfo_in_every_form_is_removed_before_sending(
    url: str, sent: str, stripped: bool
) -> None:
    assert without_userinfo(url) == (sent, stripped)
