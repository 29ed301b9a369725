"""Crawl runs and their partitions.

Each run owns one partition of each run-scoped table (observations, evidence,
observation_tools), created with the run.  Dropping a run drops its partitions (no large DELETE,
no vacuum debt); archiving one is ``ALTER TABLE observations DETACH PARTITION observations_r<id>``
followed by a dump of the detached tables.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from census import METHODOLOGY_VERSION, __version__

__all__ = ["RUN_TABLES", "create_run", "drop_run", "partition_name"]

#: Run-scoped tables, parents before children (partitions are created in this order).
RUN_TABLES = ("observations", "evidence", "observation_tools")


def partition_name(table: str, run_id: int) -> str:
    return f"{table}_r{int(run_id)}"


def create_run(conn: Connection, config: dict[str, Any], endpoint_total: int = 0) -> int:
    """Insert a pending run and create its partitions; returns the run id."""
    run_id = conn.execute(
        sa.text(
            "INSERT INTO crawl_runs (status, config, methodology_version, census_version,"
            " endpoint_total) VALUES ('pending', CAST(:config AS jsonb), :mv, :cv, :total)"
            " RETURNING id"
        ),
        {
            "config": _json(config),
            "mv": METHODOLOGY_VERSION,
            "cv": __version__,
            "total": endpoint_total,
        },
    ).scalar_one()
    for table in RUN_TABLES:
        conn.execute(
            sa.text(
                f"CREATE TABLE IF NOT EXISTS {partition_name(table, run_id)} "
                f"PARTITION OF {table} FOR VALUES IN ({int(run_id)})"
            )
        )
    return int(run_id)


def drop_run(conn: Connection, run_id: int) -> None:
    """Remove a run and everything it observed, partition by partition."""
    for table in reversed(RUN_TABLES):
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {partition_name(table, run_id)}"))
    conn.execute(sa.text("DELETE FROM crawl_runs WHERE id = :id"), {"id": int(run_id)})


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, default=str)
