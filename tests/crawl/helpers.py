"""Shared steps of the crawl tests: load a testbed's endpoints, start a run, read results."""

from __future__ import annotations

import itertools
from collections import defaultdict
from urllib.parse import urlsplit

import sqlalchemy as sa

from census.crawl.engine import CrawlRequest, start_run
from census.crawl.settings import CrawlSettings
from census.crawl.worker import make_app
from census.store.observations import libpq_url
from census.testbed import Testbed

#: Fast failure detection for tests: stalled after 2 s without heartbeat, swept every 0.5 s.
FAST = CrawlSettings(
    concurrency=64,
    shard_size=40,
    heartbeat_interval=0.5,
    stalled_worker_timeout=2.0,
    stall_check_interval=0.5,
    shutdown_grace=1.0,
)


def load_endpoints(engine: sa.Engine, urls: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO endpoints (url, host) VALUES (:url, :host) ON CONFLICT DO NOTHING"
            ),
            [{"url": u, "host": (urlsplit(u).hostname or "").lower()} for u in urls],
        )


def request_for(tb: Testbed, crawl: CrawlSettings = FAST) -> CrawlRequest:
    optouts = (tb.out_dir / "optouts.txt").read_text().split()
    return CrawlRequest(
        allow_private=True,
        optout_hosts=tuple(optouts),
        hosts_file=str(tb.hosts_file),
        ca_bundle=str(tb.ca_bundle),
        crawl=crawl,
    )


async def new_run(database_url: str, engine: sa.Engine, request: CrawlRequest) -> int:
    app = make_app(libpq_url(database_url))
    async with app.open_async():
        return await start_run(engine, app, request)


def observed(engine: sa.Engine, run_id: int) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT e.url, o.* FROM observations o JOIN endpoints e ON e.id = o.endpoint_id"
                " WHERE o.run_id = :run"
            ),
            {"run": run_id},
        ).mappings()
        return {str(r["url"]): dict(r) for r in rows}


def observation_count(engine: sa.Engine, run_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM observations WHERE run_id = :run"), {"run": run_id}
            ).scalar_one()
        )


def disagreements(tb: Testbed, rows: dict[str, dict[str, object]], columns: list[str]) -> list[str]:
    out = []
    for expected in tb.manifest:
        got = rows.get(expected["url"])
        if got is None:
            out.append(f"{expected['url']}: missing")
            continue
        for column in columns:
            want = expected.get(column, "")
            value = got.get(column)
            have = "" if value is None else str(value).lower()
            if want != "*" and have != want:
                where = f"{expected['url']} ({expected.get('profile')})"
                out.append(f"{where}: {column}={have!r}, expected {want!r}")
    return out


def min_gap_per_host(tb: Testbed) -> dict[str, float]:
    """Smallest time between two requests the testbed received for the same host."""
    times: dict[str, list[float]] = defaultdict(list)
    for record in tb.request_log:
        times[record.host].append(record.time)
    gaps = {}
    for host, ts in times.items():
        ts.sort()
        if len(ts) > 1:
            gaps[host] = min(b - a for a, b in itertools.pairwise(ts))
    return gaps
