"""Issue 12's hostile profiles: each sits beside a healthy bystander on its host (so in its
shard), answers raw requests as its manifest row says, and really puts its hostile bytes on the
wire."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest

from census.crawl.shards import plan_shards
from census.testbed import TestbedSpec, running
from census.testbed.catalog import BYSTANDER, HOSTILE_CATALOG
from census.testbed.expect import expected_row
from census.testbed.generate import generate
from census.testbed.hostile import HUGE_DESCRIPTION_CHARS, HUGE_PAGE_TOOLS, raw_header_bytes
from tests.testbed import rawclient as rc
from tests.testbed.observer import observe
from tests.testbed.test_profiles_on_the_wire import CHECKED

ISSUE12 = {e.name for e in HOSTILE_CATALOG}
HOST_LEVEL = {e.name for e in HOSTILE_CATALOG if e.host_level}
#: Enough endpoints for every issue-12 entry to appear (round-robin, about 5× their number).
N = 6 * len(HOSTILE_CATALOG)


def test_every_hostile_profile_shares_its_host_and_shard_with_a_healthy_bystander() -> None:
    world = generate(N, 7, "hostile", tls_port=4443, plain_port=8080)
    rows = {ep.url: expected_row(ep) for ep in world.endpoints}
    by_host: dict[str, list[str]] = defaultdict(list)
    for ep in world.endpoints:
        by_host[ep.host].append(ep.url)
    ids = {ep.url: ep.index for ep in world.endpoints}
    shard_of = {
        i: shard.shard_no
        for shard in plan_shards(((ep.index, ep.host) for ep in world.endpoints), 50)
        for i in shard.endpoint_ids
    }
    seen = set()
    for ep in world.endpoints:
        if ep.profile.name not in ISSUE12:
            continue
        seen.add(ep.profile.name)
        if ep.profile.name in HOST_LEVEL:
            assert world.hosts[ep.host].listen == "none"  # never contacted, nothing to share
            continue
        healthy = [
            u
            for u in by_host[ep.host]
            if rows[u]["profile"] == BYSTANDER.name and rows[u]["status"] == "healthy"
        ]
        assert healthy, ep.url
        assert {shard_of[ids[u]] for u in healthy} == {shard_of[ep.index]}
    assert seen == ISSUE12


def test_uniform_and_realistic_worlds_hold_no_issue12_profile() -> None:
    for mix in ("uniform", "realistic", "findings"):
        world = generate(400, 1, mix, tls_port=4443, plain_port=8080)
        names = {ep.profile.name for ep in world.endpoints}
        assert not names & (ISSUE12 | {BYSTANDER.name}), mix


@pytest.mark.anyio
@pytest.mark.slow
async def test_every_hostile_profile_answers_raw_requests_as_its_manifest_row_says(
    tmp_path: Path,
) -> None:
    spec = TestbedSpec(endpoints=N, seed=7, mix="hostile")
    mismatches: list[str] = []
    async with running(spec, tmp_path) as tb:
        rows = [r for r in tb.manifest if r["profile"] in ISSUE12 | {BYSTANDER.name}]
        observed: dict[str, dict[str, str]] = {}

        async def one(url: str) -> None:
            observed[url] = await observe(tb, url)

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for row in rows:
                    tg.start_soon(one, row["url"])
        for row in rows:
            got = observed[row["url"]]
            for col in CHECKED:
                if col in got and row[col] != "*" and got[col] != row[col]:
                    mismatches.append(
                        f"{row['profile']}: {col}: manifest {row[col]!r}, wire {got[col]!r}"
                    )
        assert {r["profile"] for r in rows} == ISSUE12 | {BYSTANDER.name}
        assert not any(r.authorization for r in tb.request_log)
    assert not mismatches, "\n".join(mismatches)


def _one(tb_rows: list[dict[str, str]], profile: str) -> str:
    return next(r["url"] for r in tb_rows if r["profile"] == profile)


@pytest.mark.anyio
async def test_the_hostile_bytes_are_on_the_wire(tmp_path: Path) -> None:
    spec = TestbedSpec(endpoints=N, seed=7, mix="hostile")
    async with running(spec, tmp_path) as tb, rc.session(tb, timeout=10.0) as s:
        modern_or_not = {ep.url: ep.profile.era == "modern" for ep in tb.world.endpoints}

        async def tools_body(profile: str) -> tuple[rc.Answer, bytes]:
            url = _one(tb.manifest, profile)
            modern = modern_or_not[url]
            init = await rc.post(s, url, rc.initialize())
            extra = {}
            if "mcp-session-id" in init.headers:
                extra["Mcp-Session-Id"] = init.headers["mcp-session-id"]
                version = init.message["result"]["protocolVersion"]  # type: ignore[index]
                extra["MCP-Protocol-Version"] = version.split("\r")[0]  # no CR/LF in a header
            ans = await rc.post(s, url, rc.request("tools/list", 2), extra, modern=modern)
            return init, ans.body

        _, body = await tools_body("schema_nan")
        assert b"NaN" in body
        _, body = await tools_body("schema_infinity")
        assert b"-Infinity" in body
        _, body = await tools_body("schema_overflow")
        assert b":1e999999" in body
        _, body = await tools_body("schema_lone_surrogate")
        assert b"\\ud800" in body
        _, body = await tools_body("schema_nul")
        assert b"\\u0000" in body
        _, body = await tools_body("schema_huge_int")
        assert b"1" + b"0" * 400 in body
        _, body = await tools_body("huge_description")
        assert len(body) > HUGE_DESCRIPTION_CHARS
        _, body = await tools_body("huge_page")
        assert body.count(b'"name"') == HUGE_PAGE_TOOLS
        _, body = await tools_body("schema_deep_100k")
        assert b"[" * 100_000 in body
        init, _ = await tools_body("header_invalid_utf8")
        # aiohttp decodes header bytes with surrogateescape: the raw bytes are recoverable.
        value = init.headers["X-Server-Note"].encode("utf-8", "surrogateescape")
        assert value == raw_header_bytes()
        init, _ = await tools_body("protocol_version_crlf")
        assert "\r\n" in init.message["result"]["protocolVersion"]  # type: ignore[index]
        init, _ = await tools_body("huge_initialize")
        assert len(json.dumps(init.message)) > 16 * 1024

        url = _one(tb.manifest, "retry_after_503_digits")
        ans = await rc.post(s, url, rc.initialize())
        assert ans.status == 503 and ans.headers["Retry-After"] == "9" * 5000
        url = _one(tb.manifest, "retry_after_429_nonascii")
        ans = await rc.post(s, url, rc.initialize())
        assert ans.status == 429 and ans.headers["Retry-After"] == "²"

        url = _one(tb.manifest, "redirect_userinfo")
        ans = await rc.post(s, url, rc.initialize())
        location = urlsplit(ans.headers["Location"])
        assert ans.status == 307 and location.username == "census" and location.password
        assert location.hostname == urlsplit(url).hostname

        url = _one(tb.manifest, "prm_userinfo")
        ans = await rc.post(s, url, rc.initialize())
        assert ans.status == 401 and "census:" in ans.headers["WWW-Authenticate"]

        for profile, marker in (
            ("legacy_endpoint_userinfo", "census:"),
            ("legacy_endpoint_bad_port", ":99999/"),
            ("legacy_endpoint_invalid_url", "://["),
        ):
            url = _one(tb.manifest, profile)
            async with s.get(url, headers={"Accept": "text/event-stream"}) as r:
                first = b""
                while b"data:" not in first:
                    first += await r.content.readline()
            assert marker in first.decode(), (profile, first)
