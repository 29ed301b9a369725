"""The discovery HTTP seam: capped reads, failures as values, Retry-After dates."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web

from census.discovery.http import Fetcher, HttpPolicy, _retry_after
from tests.discovery.mirrors import serve

pytestmark = pytest.mark.anyio


async def test_a_body_over_the_cap_is_cut_and_reported() -> None:
    async def big(_: web.Request) -> web.StreamResponse:
        return web.Response(body=b"x" * 300_000)

    app = web.Application()
    app.router.add_get("/big", big)
    async with serve(app) as base, Fetcher(HttpPolicy(min_interval=0, max_body=100_000)) as f:
        fetched = await f.get(f"{base}/big")
    assert fetched.error == "body_too_large"
    assert len(fetched.body) == 100_000


async def test_a_streamed_body_under_the_cap_is_read_whole() -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(50):
            await response.write(b"y" * 10_000)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/c", chunked)
    async with serve(app) as base, Fetcher(HttpPolicy(min_interval=0)) as f:
        fetched = await f.get(f"{base}/c")
    assert fetched.ok and len(fetched.body) == 500_000


async def test_a_refused_connection_is_a_value_not_an_exception() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with Fetcher(HttpPolicy(min_interval=0, attempts=1)) as f:
        fetched = await f.get(f"http://127.0.0.1:{port}/x")
    assert (fetched.status, fetched.error) == (None, "connect_refused")


async def test_a_name_absent_from_the_hosts_file_does_not_resolve() -> None:
    async with Fetcher(HttpPolicy(min_interval=0, attempts=1, hosts={})) as f:
        fetched = await f.get("http://mcp.not-listed.io/mcp")
    assert fetched.error == "dns_error"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert _retry_after("7") == 7.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (_retry_after(soon) or 0) <= 31
    assert _retry_after("soon") is None and _retry_after(None) is None
