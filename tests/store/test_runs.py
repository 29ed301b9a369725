"""Runs own their partitions: rows land in them, constraints hold, dropping a run is cheap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from census.store.runs import create_run, drop_run, partition_name


def _endpoint(conn: sa.Connection, url: str) -> int:
    return int(
        conn.execute(
            sa.text("INSERT INTO endpoints (url, host) VALUES (:u, 'h') RETURNING id"), {"u": url}
        ).scalar_one()
    )


def _observe(conn: sa.Connection, run_id: int, endpoint_id: int, **values: object) -> None:
    columns = {"status": "healthy", **values}
    names = ", ".join(columns)
    params = ", ".join(f":{k}" for k in columns)
    conn.execute(
        sa.text(
            f"INSERT INTO observations (run_id, endpoint_id, probed_at, methodology_version,"
            f" {names}) VALUES (:run, :ep, :at, 'test', {params})"
        ),
        {"run": run_id, "ep": endpoint_id, "at": datetime.now(UTC), **columns},
    )


def test_a_run_gets_its_own_partitions_and_rows_land_there(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        run_id = create_run(conn, {"concurrency": 5})
        endpoint_id = _endpoint(conn, "https://a.example/mcp")
        _observe(conn, run_id, endpoint_id, findings=["plain_http"])
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(f"SELECT count(*) FROM {partition_name('observations', run_id)}")
        ).scalar_one()
        config = conn.execute(
            sa.text("SELECT config FROM crawl_runs WHERE id = :id"), {"id": run_id}
        ).scalar_one()
    assert count == 1
    assert config == {"concurrency": 5}


@pytest.mark.parametrize(
    "values",
    [
        {"status": "alive"},
        {"status": "degraded", "failure_reason": "teapot"},
        {"status": "healthy", "failure_reason": "timeout"},
        {"era": "future"},
        {"findings": ["not_a_finding"]},
    ],
)
def test_values_outside_the_vocabulary_are_refused_by_the_database(
    engine: sa.Engine, values: dict[str, object]
) -> None:
    with engine.begin() as conn:
        run_id = create_run(conn, {})
        endpoint_id = _endpoint(conn, "https://b.example/mcp")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _observe(conn, run_id, endpoint_id, **values)


def test_dropping_a_run_removes_its_partitions_and_keeps_other_runs(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        endpoint_id = _endpoint(conn, "https://c.example/mcp")
        kept, dropped = create_run(conn, {}), create_run(conn, {})
        _observe(conn, kept, endpoint_id)
        _observe(conn, dropped, endpoint_id)
    with engine.begin() as conn:
        drop_run(conn, dropped)
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    assert partition_name("observations", dropped) not in tables
    assert partition_name("observations", kept) in tables
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT run_id FROM observations")).scalars().all()
    assert runs == [kept]
