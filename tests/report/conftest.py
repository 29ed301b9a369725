"""Fixtures of the report tests: one real crawl of the simulated internet, shared by the tests
that need real data (headline vs manifest, exports, the notebook)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from census.crawl.engine import CrawlRequest, start_run, work
from census.crawl.settings import CrawlSettings
from census.crawl.worker import make_app
from census.store.engine import make_engine
from census.store.observations import libpq_url
from census.testbed import TestbedSpec, running
from census.testbed.model import Endpoint
from tests.conftest import DatabaseFactory

#: Size of the crawled simulated internet (uniform mix: every profile appears).
CRAWL_ENDPOINTS = 240


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Crawl:
    database_url: str
    run_id: int
    manifest: list[dict[str, str]]
    endpoints: list[Endpoint]


async def _crawl(database_url: str, out: Path) -> Crawl:
    spec = TestbedSpec(endpoints=CRAWL_ENDPOINTS, seed=7, mix="uniform")
    async with running(spec, out) as tb:
        engine = make_engine(database_url)
        try:
            with engine.begin() as conn:
                for url in tb.urls:
                    host = url.split("/")[2].split(":")[0]
                    conn.execute(
                        sa.text(
                            "INSERT INTO endpoints (url, host, registrable_domain)"
                            " VALUES (:u, :h, :h) ON CONFLICT DO NOTHING"
                        ),
                        {"u": url, "h": host},
                    )
                # Two sources: every endpoint in one, every third also in the other.
                conn.execute(
                    sa.text(
                        "INSERT INTO sources (name, kind) VALUES ('official', 'registry'),"
                        " ('smithery', 'directory')"
                    )
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO listings (source_id, endpoint_id, server_name)"
                        " SELECT s.id, e.id, 'listed-' || e.id FROM endpoints e JOIN sources s"
                        " ON s.name = 'official' OR (s.name = 'smithery' AND e.id % 3 = 0)"
                    )
                )
            # allow_private=False: the hosts file's loopback addresses stand in for public DNS,
            # and the testbed's other private addresses must be refused (testbed.json's rule).
            request = CrawlRequest(
                allow_private=False,
                optout_hosts=tuple(tb.world.optouts),
                hosts_file=str(tb.hosts_file),
                ca_bundle=str(tb.ca_bundle),
                testbed=str(out),  # a simulated internet: every output must say so
                crawl=CrawlSettings(concurrency=100, confirm_delay=2.0),
            )
            app = make_app(libpq_url(database_url))
            async with app.open_async():
                run_id = await start_run(engine, app, request)
            async with asyncio.timeout(240):
                await work(
                    database_url,
                    request.crawl,
                    "census-test",
                    until_run=run_id,
                    engine=engine,
                    install_signal_handlers=False,
                )
        finally:
            engine.dispose()
        return Crawl(database_url, run_id, list(tb.manifest), list(tb.world.endpoints))


@pytest.fixture(scope="session")
def crawl(database_factory: DatabaseFactory, migrated_template: str) -> Iterator[Crawl]:
    """A database holding one complete crawl run of a uniform simulated internet."""
    url = database_factory.create(template=migrated_template)
    with tempfile.TemporaryDirectory(prefix="census-report-tb-") as tmp:
        yield asyncio.run(_crawl(url, Path(tmp)))


@pytest.fixture
def crawl_engine(crawl: Crawl) -> Iterator[sa.Engine]:
    engine = make_engine(crawl.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def new_run(conn: sa.Connection, status: str = "complete") -> int:
    """A crawl run with its partitions, as the crawl creates it."""
    from census.store.runs import create_run

    run_id = create_run(conn, {"test": True})
    conn.execute(
        sa.text("UPDATE crawl_runs SET status = :s WHERE id = :id"), {"s": status, "id": run_id}
    )
    return run_id


def endpoint(conn: sa.Connection, url: str) -> int:
    host = url.split("/")[2].split(":")[0]
    return int(
        conn.execute(
            sa.text(
                "INSERT INTO endpoints (url, host, registrable_domain) VALUES (:u, :h, :h)"
                " ON CONFLICT (url) DO UPDATE SET host = excluded.host RETURNING id"
            ),
            {"u": url, "h": host},
        ).scalar_one()
    )


def observe(conn: sa.Connection, run_id: int, url: str, status: str, **columns: object) -> int:
    """Insert one observation row directly (unit-style tests of the SQL)."""
    endpoint_id = endpoint(conn, url)
    values: dict[str, object] = {
        "run_id": run_id,
        "endpoint_id": endpoint_id,
        "probed_at": "2026-11-21T12:00:00+00:00",
        "methodology_version": "test",
        "status": status,
        **columns,
    }
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(sa.text(f"INSERT INTO observations ({names}) VALUES ({params})"), values)
    return endpoint_id


def tool(
    conn: sa.Connection, run_id: int, endpoint_id: int, position: int, name: str, body: str
) -> str:
    """Insert a tool definition (content-addressed) listed by one observation."""
    import hashlib

    canonical = f'{{"description":"{body}","name":"{name}"}}'
    sha = hashlib.sha256(canonical.encode()).hexdigest()
    conn.execute(
        sa.text(
            "INSERT INTO tool_definitions (sha256, name, description, input_schema,"
            " canonical_json, tokens, tokenizer) VALUES (:s, :n, :d, CAST('{}' AS jsonb), :c,"
            " :t, 'o200k_base') ON CONFLICT DO NOTHING"
        ),
        {"s": sha, "n": name, "d": body, "c": canonical, "t": len(canonical) // 4},
    )
    conn.execute(
        sa.text(
            "INSERT INTO observation_tools (run_id, endpoint_id, position, tool_sha256)"
            " VALUES (:r, :e, :p, :s)"
        ),
        {"r": run_id, "e": endpoint_id, "p": position, "s": sha},
    )
    return sha
