"""Observation writes/s through the crawl's COPY writer, into a scratch database."""

from __future__ import annotations

import sqlalchemy as sa

from census.bench.writes import measure_writes
from census.config import Settings
from census.store.engine import make_engine


def _bench_databases(admin_url: str) -> list[str]:
    engine = make_engine(admin_url, pool_size=1)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'census_bench_%'")
                ).scalars()
            )
    finally:
        engine.dispose()


def test_measured_writes_store_every_row_and_leave_no_scratch_database(
    pg_admin_url: str,
) -> None:
    before = _bench_databases(pg_admin_url)
    result = measure_writes(Settings(database_url=pg_admin_url), rows=300, batch=100)
    assert result.written == result.rows == 300
    assert result.seconds > 0 and result.rows_per_s > 0
    assert _bench_databases(pg_admin_url) == before
