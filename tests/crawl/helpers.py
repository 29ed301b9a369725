"""Shared steps of the crawl tests: load a testbed's endpoints, start a run, read results."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from census.classify import classify
from census.crawl.engine import CrawlRequest, start_run
from census.crawl.settings import CrawlSettings
from census.crawl.worker import make_app
from census.records import Evidence
from census.store.observations import libpq_url

#: Fast failure detection for tests: stalled after 5 s without heartbeat (a busy 2-core machine
#: can hold a loop for 2 s), swept every 0.5 s.
FAST = CrawlSettings(
    concurrency=64,
    shard_size=40,
    heartbeat_interval=0.5,
    stalled_worker_timeout=5.0,
    stall_check_interval=0.5,
    shutdown_grace=1.0,
    # Transient-looking failures are probed again 2 s after their first probe (more than the
    # simulated internet's 1.5 s visit gap, census.testbed.flapping), not 10 minutes.
    confirm_delay=2.0,
)


def load_endpoints(engine: sa.Engine, urls: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO endpoints (url, host) VALUES (:url, :host) ON CONFLICT DO NOTHING"
            ),
            [{"url": u, "host": (urlsplit(u).hostname or "").lower()} for u in urls],
        )


def request_for(tb: Any, crawl: CrawlSettings = FAST) -> CrawlRequest:
    optouts = (tb.out_dir / "optouts.txt").read_text().split()
    return CrawlRequest(
        allow_private=False,  # the hosts file admits its loopback addresses
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


def disagreements(tb: Any, rows: dict[str, dict[str, object]], columns: list[str]) -> list[str]:
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


def busiest_window_per_host(tb: Any, seconds: float = 5.0) -> dict[str, int]:
    """Most requests the testbed received for one host within any ``seconds``-long window.

    Measured where the requests arrive, so network jitter (a slow TLS handshake delaying one
    request, not the next) can bring two arrivals closer than the client spaced them; a window
    of several seconds absorbs that.
    """
    times: dict[str, list[float]] = defaultdict(list)
    for record in tb.request_log:
        times[record.host].append(record.time)
    busiest = {}
    for host, ts in times.items():
        ts.sort()
        start, best = 0, 0
        for end, t in enumerate(ts):
            while t - ts[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        busiest[host] = best
    return busiest


def reclassified_disagreements(engine: sa.Engine, run_id: int, columns: list[str]) -> list[str]:
    """Classify every stored evidence document again and compare with the stored observation."""
    rows = observed(engine, run_id)
    with engine.connect() as conn:
        documents = conn.execute(
            sa.text(
                "SELECT e.url, ev.data::text FROM evidence ev JOIN endpoints e"
                " ON e.id = ev.endpoint_id JOIN observations o ON o.run_id = ev.run_id"
                " AND o.endpoint_id = ev.endpoint_id"
                # the evidence of the attempt that stands (census.vocabulary.VERDICT_RULE)
                " WHERE ev.run_id = :run AND ev.attempt = o.attempts"
            ),
            {"run": run_id},
        ).all()
    assert len(documents) == len(rows)
    out = []
    for url, text in documents:
        again = classify(Evidence.from_json(text))
        for column in columns:
            value = getattr(again, column)
            have = "" if value is None else str(value).lower()
            stored = rows[url].get(column)
            want = "" if stored is None else str(stored).lower()
            if have != want:
                out.append(f"{url}: {column} reclassified {have!r}, stored {want!r}")
    return out
