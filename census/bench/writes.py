"""Observation writes per second through the crawl's COPY writer, into a scratch database.

A scratch database (``census_bench_<random>``) is created next to the configured one (or in the
embedded server), migrated, filled with synthetic endpoints, written to in the crawl's batch
size with ``census.store.observations.write_observations`` (observations, their tools and their
evidence, as a crawl writes them), and dropped again.  Nobody's data is touched.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import anyio
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from census.config import Settings
from census.records import Evidence, Exchange, Observation, ToolDefinition
from census.vocabulary import AuthClass, CorsClass, Era, RateLimitClass, Session, Status, Tls

__all__ = ["WriteResult", "measure_writes"]


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: int
    seconds: float
    batch_size: int
    written: int  # observations the writer reported as new (== rows unless something is wrong)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _sample(i: int, n_tools: int = 5) -> tuple[Observation, Evidence]:
    """A typical healthy observation: 5 tools, ~1 KB of evidence."""
    tools = tuple(
        ToolDefinition(
            name=f"tool_{k}",
            description=f"Does thing {k} for the caller.",
            input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
            canonical_json=f'{{"name":"tool_{k}"}}',
            sha256=f"{k:064x}",
            tokens=40,
        )
        for k in range(n_tools)
    )
    now = datetime.now(UTC)
    observation = Observation(
        url=f"https://bench-{i}.example/mcp",
        host=f"bench-{i}.example",
        registrable_domain=f"bench-{i}.example",
        probed_at=now,
        status=Status.HEALTHY,
        era=Era.DUAL,
        protocol_version="2026-07-28",
        session=Session.STATEFUL,
        server_name="bench-server",
        server_version="1.0.0",
        auth_class=AuthClass.NONE,
        cors_class=CorsClass.NONE,
        origin_validated=False,
        rate_limit_class=RateLimitClass.NONE_OBSERVED,
        tool_count=n_tools,
        tool_tokens=200,
        tls=Tls.VALID,
        tls_days_left=90,
        latency_ms=42.0,
        findings=("origin_not_validated",),
        methodology_version="bench",
        tools=tools,
    )
    exchange = Exchange(
        step="initialize",
        method="POST",
        url=observation.url,
        request_headers={"Accept": "application/json, text/event-stream"},
        status=200,
        response_headers={"content-type": "application/json"},
        body='{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25"}}' + " " * 700,
        timings_ms={"total": 42.0},
    )
    return observation, Evidence(url=observation.url, started_at=now, exchanges=(exchange,))


async def _write(
    conninfo: str, run_id: int, ids: list[int], batch: int, evidence_too: bool, n_tools: int
) -> tuple[float, int]:
    from census.store.observations import Observed, write_observations

    observation, evidence = _sample(0, n_tools)
    items = [
        Observed(
            endpoint_id,
            replace(observation, url=f"https://bench-{i}.example/mcp"),
            evidence if evidence_too else None,
        )
        for i, endpoint_id in enumerate(ids)
    ]
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        written = 0
        started = time.perf_counter()
        for start in range(0, len(items), batch):
            written += await write_observations(conn, run_id, items[start : start + batch])
        return time.perf_counter() - started, written


def measure_writes(
    settings: Settings,
    rows: int = 50_000,
    batch: int = 500,
    *,
    evidence: bool = True,
    tools: int = 5,
) -> WriteResult:
    """Write ``rows`` observations (each with ``tools`` tools and, if ``evidence``, ~1 KB of
    evidence) into a scratch database in batches of ``batch``, and time the writes."""
    from census.store import make_engine, migrate, resolve_database
    from census.store.observations import libpq_url
    from census.store.runs import create_run

    target = resolve_database(settings)
    name = f"census_bench_{secrets.token_hex(4)}"
    admin = make_engine(target.url, pool_size=1)
    admin_ac = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin_ac.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    scratch_url = make_url(str(target.url)).set(database=name)
    scratch = make_engine(scratch_url, pool_size=1)
    try:
        migrate.upgrade(scratch, f"scratch database {name}")
        with scratch.begin() as conn:
            ids = [
                int(i)
                for i in conn.execute(
                    sa.text(
                        "INSERT INTO endpoints (url, host)"
                        " SELECT 'https://bench-' || g || '.example/mcp', 'bench-' || g"
                        " FROM generate_series(1, :n) g RETURNING id"
                    ),
                    {"n": rows},
                ).scalars()
            ]
            run_id = create_run(conn, {"bench": True}, endpoint_total=rows)
        seconds, written = anyio.run(
            _write,
            libpq_url(scratch_url.render_as_string(hide_password=False)),
            run_id,
            ids,
            batch,
            evidence,
            tools,
        )
    finally:
        scratch.dispose()
        with admin_ac.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return WriteResult(rows=rows, seconds=seconds, batch_size=batch, written=written)
