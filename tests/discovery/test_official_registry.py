"""The official-registry adapter against a real loopback mirror of the registry API."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from census.discovery.http import HttpPolicy
from census.discovery.official_registry import RegistrySource, list_url
from census.discovery.pipeline import SourceResult, collect
from tests.discovery.conftest import FIXTURES, SHARED_DATA
from tests.discovery.mirrors import Faults, RegistryMirror, load_items, serve

pytestmark = pytest.mark.anyio

FAST = HttpPolicy(min_interval=0.0, backoff_base=0.01, timeout=10.0)
FULL_DUMP = SHARED_DATA / "registries" / "joelverhagen-mcp-insights_servers_2025-12-18.json"
OFFICIAL = "io.modelcontextprotocol.registry/official"


def independent_expectation(items: list[dict[str, Any]]) -> tuple[set[str], Counter[str]]:
    """Latest-version remote URLs straight from the file, canonicalized by a separate rule."""
    urls: set[str] = set()
    rejected: Counter[str] = Counter()
    for item in items:
        if not item["_meta"][OFFICIAL]["isLatest"]:
            continue
        for remote in item["server"].get("remotes") or []:
            url = remote["url"]
            if re.search(r"[{}<>\[\]]|\$\{", url):
                rejected["templated_url"] += 1
                continue
            parts = urlsplit(url)
            if parts.hostname in {"localhost", "127.0.0.1", "0.0.0.0"}:
                rejected["localhost"] += 1
                continue
            port = f":{parts.port}" if parts.port not in (None, 443, 80) else ""
            path = "" if parts.path == "/" else parts.path
            query = f"?{parts.query}" if parts.query else ""
            urls.add(f"{parts.scheme.lower()}://{parts.hostname}{port}{path}{query}")
    return urls, rejected


async def read_mirror(mirror: RegistryMirror, **options: Any) -> SourceResult:
    async with serve(mirror.app()) as base:
        return await collect(
            RegistrySource("official", base, options.pop("policy", FAST), **options)
        )


async def test_a_mirror_of_the_committed_slice_yields_exactly_its_latest_remote_urls() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    expected, rejected = independent_expectation(items)
    mirror = RegistryMirror(items)
    result = await read_mirror(mirror)
    assert {c.url for c in result.candidates} == expected
    assert result.rejected == rejected
    assert rejected["templated_url"] >= 1  # the slice holds foqal's [YOUR_GENERATED_TOKEN] URL
    assert result.complete and not result.log.problems
    # pages of at most 100, cursors followed to the end
    assert all(r.query["limit"] == "100" for r in mirror.requests)
    assert len(mirror.requests) == -(
        -sum(1 for i in items if i["_meta"][OFFICIAL]["isLatest"]) // 100
    )


@pytest.mark.skipif(not FULL_DUMP.exists(), reason="../shared/data is not beside the repository")
async def test_a_mirror_of_the_full_joelverhagen_dump_yields_exactly_its_latest_remote_urls() -> (
    None
):
    items = load_items(FULL_DUMP)
    expected, rejected = independent_expectation(items)
    result = await read_mirror(RegistryMirror(items))
    assert {c.url for c in result.candidates} == expected
    assert len(expected) == 584  # 585 distinct latest URLs, one of them templated
    assert result.rejected == rejected == Counter({"templated_url": 1})
    assert result.entries == 1108 and result.log.skipped["no_remote"] == 622
    assert result.complete


async def test_old_versions_are_skipped_even_when_the_registry_ignores_version_latest() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    expected, _ = independent_expectation(items)
    result = await read_mirror(RegistryMirror(items, honour_version=False))
    assert {c.url for c in result.candidates} == expected
    assert result.log.skipped["superseded_version"] == sum(
        1 for i in items if not i["_meta"][OFFICIAL]["isLatest"]
    )


async def test_a_malformed_page_ends_the_walk_incomplete_and_is_reported() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    mirror = RegistryMirror(items, Faults(malformed={2}))
    result = await read_mirror(mirror)
    assert not result.complete
    assert "page 2: malformed" in (result.error or "")
    assert result.entries == 100  # page 1 was kept
    assert len([r for r in mirror.requests if "cursor" in r.query]) == 2  # re-fetched once


async def test_a_500_is_retried_and_the_walk_completes_with_the_incident_reported() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    expected, _ = independent_expectation(items)
    result = await read_mirror(RegistryMirror(items, Faults(fail_once={2})))
    assert result.complete
    assert {c.url for c in result.candidates} == expected
    assert any("page 2: retried after 500" in i for i in result.log.incidents)


async def test_a_persistent_500_ends_the_walk_incomplete_after_the_retries() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    mirror = RegistryMirror(items, Faults(fail_always={2}))
    policy = HttpPolicy(min_interval=0.0, backoff_base=0.01, attempts=3)
    result = await read_mirror(mirror, policy=policy)
    assert not result.complete
    assert result.error == "page 2: HTTP 500 after 3 attempts"
    assert result.entries == 100


async def test_a_429_waits_out_retry_after_before_asking_again() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    expected, _ = independent_expectation(items)
    mirror = RegistryMirror(items, Faults(rate_limited={2: 1}))
    result = await read_mirror(mirror)
    assert result.complete and {c.url for c in result.candidates} == expected
    page2 = [r for r in mirror.requests if "cursor" in r.query][:2]
    assert page2[1].at - page2[0].at >= 0.95  # Retry-After: 1 honoured
    assert any("429 retry-after=1" in i for i in result.log.incidents)


async def test_a_cursor_that_loops_back_ends_the_walk_and_is_reported() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    mirror = RegistryMirror(items, Faults(loop_after=3))
    result = await read_mirror(mirror, page_size=20)
    assert not result.complete
    assert "page 3: cursor" in (result.error or "")
    assert "already followed (a loop)" in (result.error or "")
    assert len(mirror.requests) == 3  # page 3's cursor points back to page 2: not followed
    assert result.entries == 60


async def test_the_page_cap_cuts_a_long_walk_and_says_so() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    result = await read_mirror(RegistryMirror(items), max_pages=1)
    assert not result.complete
    assert "page cap of 1" in (result.error or "")


async def test_requests_are_spaced_by_the_politeness_interval() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    mirror = RegistryMirror(items)
    await read_mirror(mirror, policy=HttpPolicy(min_interval=0.2))
    gaps = [b.at - a.at for a, b in zip(mirror.requests, mirror.requests[1:], strict=False)]
    assert gaps and min(gaps) >= 0.18
    assert all("census/" in r.headers.get("User-Agent", "") for r in mirror.requests)


async def test_since_asks_for_updated_entries_only() -> None:
    items = load_items(FIXTURES / "official-slice.json")
    since = datetime(2025, 11, 1, tzinfo=UTC)
    mirror = RegistryMirror(items)
    result = await read_mirror(mirror, since=since)
    assert mirror.requests[0].query["updated_since"] == "2025-11-01T00:00:00Z"
    newer = [
        i
        for i in items
        if i["_meta"][OFFICIAL]["isLatest"] and i["_meta"][OFFICIAL]["updatedAt"] > "2025-11-01"
    ]
    assert result.entries == len(newer)


def test_list_urls_accept_a_bare_host_or_a_versioned_base() -> None:
    assert list_url("https://r.example", 100, None, None).startswith(
        "https://r.example/v0.1/servers?limit=100&version=latest"
    )
    assert list_url("https://r.example/v0.1/", 10, "a b", None).endswith("&cursor=a+b")
    assert list_url("https://r.example/v0/servers", 10, None, None).startswith(
        "https://r.example/v0/servers?"
    )


PLANTED: list[dict[str, Any]] = [
    # Hand-written items in real shapes (registries reference §1.5–1.7): each plants one case.
    {
        "server": {
            "name": "t/localhost",
            "version": "1",
            "remotes": [{"type": "sse", "url": "http://localhost:5008/sse"}],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/loopback",
            "version": "1",
            "remotes": [{"type": "streamable-http", "url": "http://127.0.0.1:8000/mcp"}],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/private",
            "version": "1",
            "remotes": [{"type": "streamable-http", "url": "https://10.1.2.3/mcp"}],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/deleted",
            "version": "2",
            "remotes": [{"type": "streamable-http", "url": "https://gone.example-host.com/mcp"}],
        },
        "_meta": {OFFICIAL: {"status": "deleted", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/deprecated",
            "version": "3",
            "remotes": [
                {"type": "streamable-http", "url": "https://Old.Example-Host.com:443/mcp#frag"}
            ],
        },
        "_meta": {OFFICIAL: {"status": "deprecated", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/secret",
            "version": "1",
            "remotes": [
                {
                    "type": "streamable-http",
                    "url": "https://api.keyed-host.io/mcp?api_key=sk_live_1234567890abcdef&x=1",
                    "headers": [
                        {"name": "Authorization", "value": "Bearer abc.def.ghi", "isSecret": True}
                    ],
                }
            ],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/tenant",
            "version": "1",
            "remotes": [
                {"type": "streamable-http", "url": "https://{tenant}.cognethics.com/api/mcp/mcp"}
            ],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/package-only",
            "version": "1",
            "packages": [
                {
                    "registryType": "npm",
                    "identifier": "x",
                    "transport": {"type": "streamable-http", "url": "http://localhost:3000/mcp"},
                }
            ],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
    {
        "server": {
            "name": "t/snake",
            "version": "1",
            "remotes": [{"transport_type": "sse", "url": "https://snake.example-host.com/sse"}],
        },
        "_meta": {OFFICIAL: {"status": "active", "isLatest": True}},
    },
]


async def test_planted_entries_are_rejected_redacted_or_kept_by_rule() -> None:
    result = await read_mirror(RegistryMirror(PLANTED))
    assert result.rejected == Counter(
        {"localhost": 2, "private_address": 1, "deleted": 1, "templated_url": 1}
    )
    by_url = {c.url: c for c in result.candidates}
    assert set(by_url) == {
        "https://old.example-host.com/mcp",
        "https://api.keyed-host.io/mcp?api_key=REDACTED&x=1",
        "https://snake.example-host.com/sse",
    }
    secret = by_url["https://api.keyed-host.io/mcp?api_key=REDACTED&x=1"]
    assert secret.secret_in_url
    dumped = json.dumps(secret.raw)
    assert "sk_live" not in dumped and "abc.def.ghi" not in dumped
    assert by_url["https://snake.example-host.com/sse"].transport_hint == "sse"
    assert (
        by_url["https://old.example-host.com/mcp"].raw["_meta"][OFFICIAL]["status"] == "deprecated"
    )
    assert [t.url for t in result.tombstones] == ["https://gone.example-host.com/mcp"]
    assert result.log.skipped["no_remote"] == 1  # the package's localhost URL is not a remote


def test_fixture_slice_is_present() -> None:
    assert Path(FIXTURES / "official-slice.json").exists()


async def test_githubs_deprecated_snake_case_pages_are_followed_by_next_cursor() -> None:
    pages = {
        None: {
            "servers": [
                {
                    "server": {
                        "name": "a/b",
                        "version": "1",
                        "remotes": [
                            {"transport_type": "sse", "url": "https://mcp.first-host.io/sse"}
                        ],
                    }
                }
            ],
            "metadata": {"next_cursor": "c2"},
        },
        "c2": {
            "servers": [
                {
                    "server": {
                        "name": "c/d",
                        "version": "1",
                        "remotes": [
                            {
                                "transportType": "streamable-http",
                                "url": "https://mcp.second-host.io/mcp",
                            }
                        ],
                    }
                }
            ],
            "metadata": {"next_cursor": ""},
        },
    }

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(pages[request.query.get("cursor")])

    app = web.Application()
    app.router.add_get("/v0/servers", handler)
    async with serve(app) as base:
        result = await collect(RegistrySource("github", f"{base}/v0", FAST))
    assert [(c.url, c.transport_hint) for c in result.candidates] == [
        ("https://mcp.first-host.io/sse", "sse"),
        ("https://mcp.second-host.io/mcp", "streamable_http"),
    ]
    assert result.complete
