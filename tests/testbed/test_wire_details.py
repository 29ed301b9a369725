"""SDK-faithful wire details and real-world oddities, request by request."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from census.testbed import Testbed, TestbedSpec, running
from tests.testbed import rawclient as rc

pytestmark = pytest.mark.anyio


@pytest.fixture
async def tb(tmp_path: Path) -> AsyncIterator[Testbed]:
    async with running(TestbedSpec(endpoints=300, seed=5, mix="uniform"), tmp_path) as bed:
        yield bed


def _url(tb: Testbed, profile: str, **want: str) -> str:
    for row in tb.rows(profile):
        if all(row[k] == v for k, v in want.items()):
            return row["url"]
    raise AssertionError(f"no {profile} endpoint with {want}")


async def test_modern_server_answers_the_2026_error_ladder_with_mapped_http_statuses(
    tb: Testbed,
) -> None:
    url = _url(tb, "healthy_modern")
    async with rc.session(tb) as s:
        ok = await rc.post(s, url, rc.request("server/discover", 1), modern=True)
        assert ok.status == 200 and ok.message is not None
        assert ok.message["result"]["supportedVersions"] == ["2026-07-28"]
        assert ok.message["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"]
        meta = {**rc.DISCOVER_META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
        future = await rc.post(
            s,
            url,
            {"jsonrpc": "2.0", "id": 2, "method": "server/discover", "params": {"_meta": meta}},
            headers={"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "server/discover"},
        )
        assert future.status == 400 and future.message is not None
        assert future.message["error"]["code"] == -32022
        assert future.message["error"]["data"] == {
            "supported": ["2026-07-28"],
            "requested": "2099-01-01",
        }
        wrong = await rc.post(
            s, url, rc.request("tools/list", 3), modern=True, headers={"Mcp-Method": "prompts/list"}
        )
        assert wrong.status == 400 and wrong.message["error"]["code"] == -32020  # type: ignore[index]
        bare = await rc.post(
            s,
            url,
            rc.request("tools/list", 4),
            headers={"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"},
        )
        assert bare.status == 400 and bare.message["error"]["code"] == -32602  # type: ignore[index]
        init = await rc.post(s, url, rc.initialize())
        assert init.status == 404 and init.message["error"]["code"] == -32601  # type: ignore[index]
        ping = await rc.post(s, url, rc.request("ping", 5), modern=True)
        assert ping.status == 404 and ping.message["error"]["data"] == "ping"  # type: ignore[index]
        call = await rc.post(
            s,
            url,
            rc.request("tools/call", 6, {"name": "x", "arguments": {}}),
            modern=True,
            headers={"Mcp-Name": "x"},
        )
        assert call.status == 400 and call.message["error"]["code"] == -32021  # type: ignore[index]
        async with s.get(url) as r:
            assert r.status == 405 and r.headers["Allow"] == "POST"


async def test_stateful_handshake_server_behaves_like_the_python_sdk(tb: Testbed) -> None:
    url = _url(tb, "healthy_handshake_stateful", status="healthy", auth_class="none")
    async with rc.session(tb) as s:
        discover = await rc.post(s, url, rc.request("server/discover", 1), modern=True)
        assert discover.status == 400 and "mcp-session-id" in {k.lower() for k in discover.headers}
        assert discover.message["error"]["message"] == "Bad Request: Missing session ID"  # type: ignore[index]
        init = await rc.post(s, url, rc.initialize("2099-01-01"))
        assert init.status == 200 and init.message is not None
        assert init.message["result"]["protocolVersion"] == tb.row(url)["protocol_version"]
        sid = next(v for k, v in init.headers.items() if k.lower() == "mcp-session-id")
        version = init.message["result"]["protocolVersion"]
        hdrs = {"Mcp-Session-Id": sid, "MCP-Protocol-Version": version}
        note = await rc.post(
            s, url, {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=hdrs
        )
        assert note.status == 202
        listed = await rc.post(s, url, rc.request("tools/list", 2), headers=hdrs)
        assert listed.status == 200 and "tools" in listed.message["result"]  # type: ignore[index]
        stranger = await rc.post(
            s, url, rc.request("tools/list", 3), headers={**hdrs, "Mcp-Session-Id": "0" * 32}
        )
        assert stranger.status == 404
        async with s.delete(url, headers=hdrs) as r:
            assert r.status == 200
        gone = await rc.post(s, url, rc.request("tools/list", 4), headers=hdrs)
        assert gone.status == 404
        star = await rc.post(s, url, rc.initialize(), headers={"Accept": "*/*"})
        assert star.status == 406


async def test_stateless_server_get_opens_a_stream_that_never_sends(tb: Testbed) -> None:
    url = _url(tb, "healthy_handshake_stateless", status="healthy", auth_class="none")
    async with rc.session(tb) as s, s.get(url, headers={"Accept": "text/event-stream"}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        got = b""
        with anyio.move_on_after(0.5):  # a deadline on silence, not a wait for an event
            got = await r.content.read(1)
        assert got == b""


async def test_trailing_slash_is_redirected_with_307_to_the_path_without_it(tb: Testbed) -> None:
    url = _url(tb, "slash_redirect")
    async with rc.session(tb) as s:
        answer = await rc.post(s, url, rc.initialize())
    assert answer.status == 307
    assert answer.headers["Location"] == url.rstrip("/")


async def test_sse_mode_frames_prime_comment_and_notify_before_the_answer(tb: Testbed) -> None:
    url = _url(tb, "healthy_sse_mode", status="healthy", auth_class="none")
    async with rc.session(tb) as s:
        answer = await rc.post(s, url, rc.initialize())
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    assert answer.headers["X-Accel-Buffering"] == "no"
    text = answer.body.decode()
    assert "retry: 1000\r\ndata: \r\n\r\n" in text and ": keepalive\r\n" in text
    assert text.index("notifications/message") < text.index('"result"')
    assert answer.messages[-1]["id"] == 1


async def test_legacy_sse_server_refuses_post_and_announces_its_endpoint(tb: Testbed) -> None:
    url = _url(tb, "healthy_legacy_sse", status="healthy", auth_class="none")
    async with rc.session(tb) as s:
        posted = await rc.post(s, url, rc.initialize())
        assert posted.status == 405 and posted.headers["Allow"] == "HEAD, GET"
        async with s.get(url, headers={"Accept": "text/event-stream"}) as r:
            first = await r.content.readline()
            second = await r.content.readline()
        assert first.strip() == b"event: endpoint"
        assert second.startswith(b"data: /messages/?session_id=")
        async with s.post(url.rsplit("/", 1)[0] + "/messages/", json={}) as r:
            assert r.status in (400, 404)


async def test_enforced_rate_limit_answers_every_third_request_429(tb: Testbed) -> None:
    url = _url(tb, "rate_enforced", status="healthy")
    async with rc.session(tb) as s:
        statuses = [(await rc.post(s, url, rc.initialize(id_=i))).status for i in range(6)]
    assert [st == 429 for st in statuses] == [False, False, True, False, False, True]


async def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(tb: Testbed) -> None:
    url = _url(tb, "gzip_bomb")
    async with rc.session(tb) as s:
        answer = await rc.post(s, url, rc.initialize())
    assert answer.headers["Content-Encoding"] == "gzip" and len(answer.body) < 1_000_000
    inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(answer.body, 10_000_000)
    assert len(inflated) == 10_000_000


async def test_politeness_report_counts_tool_calls_credentials_and_handshake_origins(
    tb: Testbed,
) -> None:
    url = _url(tb, "healthy_modern")
    async with rc.session(tb) as s:
        await rc.post(
            s,
            url,
            rc.request("server/discover", 1),
            modern=True,
            headers={"Origin": "https://evil.example"},
        )
        await rc.post(
            s,
            url,
            rc.request("tools/call", 2, {"name": "x"}),
            modern=True,
            headers={"Mcp-Name": "x", "Authorization": "Bearer t"},
        )
    report = tb.politeness()
    assert report.tool_calls == 1 and report.with_authorization == 1
    assert report.handshake_with_origin == 1 and report.user_agents == {rc.UA}
    assert report.max_requests_per_host_per_second >= 1 and report.optout_requests == 0
