"""Storing discovery reads in a real PostgreSQL: idempotence, provenance, ended listings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import anyio
import sqlalchemy as sa

from census.discovery.pipeline import SourceResult, collect
from census.discovery.seed_file import seed_file_source
from census.discovery.source import make_candidate
from census.store.discovery import record_source_read


def read_seed(tmp_path: Path, name: str, urls: list[str]) -> SourceResult:
    path = tmp_path / name
    path.write_text("\n".join(urls) + "\n")
    return anyio.run(collect, seed_file_source(path))


def store(engine: sa.Engine, result: SourceResult):  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        return record_source_read(conn, result)


def rows(engine: sa.Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_storing_the_same_read_twice_changes_nothing_but_timestamps(
    engine: sa.Engine, tmp_path: Path
) -> None:
    urls = ["https://mcp.a-host.io/mcp", "https://mcp.b-host.io/sse", "https://mcp.a-host.io/mcp"]
    first = store(engine, read_seed(tmp_path, "s.txt", urls))
    endpoints = rows(engine, "SELECT id, url, host, registrable_domain FROM endpoints ORDER BY id")
    second = store(engine, read_seed(tmp_path, "s.txt", urls))
    assert (first.new_endpoints, second.new_endpoints) == (2, 0)
    assert (first.duplicates, first.remote_urls) == (1, 2)
    assert rows(engine, "SELECT id, url, host, registrable_domain FROM endpoints ORDER BY id") == (
        endpoints
    )
    assert endpoints[0][2:] == ("mcp.a-host.io", "a-host.io")
    assert rows(engine, "SELECT count(*) FROM listings") == [(2,)]
    reads = rows(
        engine,
        "SELECT entries, remote_urls, new_endpoints, duplicates, error"
        " FROM source_reads ORDER BY id",
    )
    assert reads == [(3, 2, 2, 1, None), (3, 2, 0, 1, None)]


def test_an_endpoint_listed_by_two_sources_is_one_row_with_two_listings(
    engine: sa.Engine, tmp_path: Path
) -> None:
    store(engine, read_seed(tmp_path, "one.txt", ["https://MCP.shared-host.io:443/mcp"]))
    second = store(engine, read_seed(tmp_path, "two.txt", ["https://mcp.shared-host.io/mcp"]))
    assert second.new_endpoints == 0 and second.remote_urls == 1
    listed = rows(
        engine,
        "SELECT s.name, e.url FROM listings l JOIN sources s ON s.id = l.source_id"
        " JOIN endpoints e ON e.id = l.endpoint_id ORDER BY s.name",
    )
    assert listed == [
        ("seed:one.txt", "https://mcp.shared-host.io/mcp"),
        ("seed:two.txt", "https://mcp.shared-host.io/mcp"),
    ]


def test_an_endpoint_no_longer_listed_anywhere_is_marked_not_deleted(
    engine: sa.Engine, tmp_path: Path
) -> None:
    store(
        engine,
        read_seed(tmp_path, "a.txt", ["https://mcp.x-host.io/mcp", "https://mcp.y-host.io/mcp"]),
    )
    store(engine, read_seed(tmp_path, "b.txt", ["https://mcp.y-host.io/mcp"]))
    later = store(engine, read_seed(tmp_path, "a.txt", ["https://mcp.z-host.io/mcp"]))
    assert later.listings_ended == 2
    state = dict(rows(engine, "SELECT url, still_listed FROM endpoints"))  # type: ignore[arg-type]
    assert state == {
        "https://mcp.x-host.io/mcp": False,  # listed by nobody now: kept, marked
        "https://mcp.y-host.io/mcp": True,  # b.txt still lists it
        "https://mcp.z-host.io/mcp": True,
    }
    # listed again: back to listed
    store(engine, read_seed(tmp_path, "a.txt", ["https://mcp.x-host.io/mcp"]))
    assert rows(engine, "SELECT still_listed FROM endpoints WHERE url LIKE '%x-host%'") == [(True,)]


def test_an_incomplete_or_incremental_read_ends_no_listing(
    engine: sa.Engine, tmp_path: Path
) -> None:
    store(engine, read_seed(tmp_path, "a.txt", ["https://mcp.x-host.io/mcp"]))
    cut_short = read_seed(tmp_path, "a.txt", [])
    cut_short.log.fail("page 2: HTTP 500 after 5 attempts")
    assert store(engine, cut_short).listings_ended == 0
    incremental = read_seed(tmp_path, "a.txt", [])
    incremental.since = datetime(2026, 1, 1, tzinfo=UTC)
    assert store(engine, incremental).listings_ended == 0
    assert rows(engine, "SELECT still_listed FROM endpoints") == [(True,)]
    assert rows(engine, "SELECT error FROM source_reads ORDER BY id")[1] == (
        "page 2: HTTP 500 after 5 attempts",
    )


def test_a_registry_tombstone_ends_the_listing_even_in_an_incremental_read(
    engine: sa.Engine, tmp_path: Path
) -> None:
    store(engine, read_seed(tmp_path, "a.txt", ["https://mcp.x-host.io/mcp"]))
    incremental = read_seed(tmp_path, "a.txt", [])
    incremental.since = datetime(2026, 1, 1, tzinfo=UTC)
    incremental.tombstones.append(
        make_candidate("seed:a.txt", "https://mcp.x-host.io/mcp", {}, rejected="deleted")
    )
    assert store(engine, incremental).listings_ended == 1
    assert rows(engine, "SELECT still_listed FROM endpoints") == [(False,)]


def test_hosts_serving_many_endpoints_are_flagged_as_platforms(
    engine: sa.Engine, tmp_path: Path
) -> None:
    many = [f"https://tenants.host-io.net/t{i}/mcp" for i in range(5)]
    store(engine, read_seed(tmp_path, "a.txt", [*many, "https://mcp.solo-host.io/mcp"]))
    store(engine, read_seed(tmp_path, "b.txt", ["https://abc.run.tools"]))
    flags = dict(rows(engine, "SELECT host, bool_or(platform_host) FROM endpoints GROUP BY host"))  # type: ignore[arg-type]
    assert flags == {"tenants.host-io.net": True, "mcp.solo-host.io": False, "abc.run.tools": True}


def test_secrets_never_reach_the_database_but_their_presence_does(
    engine: sa.Engine, tmp_path: Path
) -> None:
    result = read_seed(tmp_path, "a.txt", ["https://mcp.k-host.io/mcp?api_key=sk_live_0123456789"])
    result.candidates[0] = replace(
        result.candidates[0], raw={**result.candidates[0].raw, "when": datetime(2026, 1, 1)}
    )
    store(engine, result)
    ((url, secret),) = rows(engine, "SELECT url, secret_in_url FROM endpoints")
    assert (url, secret) == ("https://mcp.k-host.io/mcp?api_key=REDACTED", True)
    raw = rows(engine, "SELECT raw::text FROM listings")[0][0]
    assert "sk_live" not in str(raw)
    assert json.loads(str(raw))["when"].startswith("2026-01-01")
