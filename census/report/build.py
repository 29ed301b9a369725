"""Assemble reports from the SQL aggregates: one run, or the trend over the last runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from census.report import comparisons, queries
from census.report.model import Figure, Report
from census.report.security import security_breakdowns

__all__ = ["TREND_METRICS", "Trend", "build_report", "build_trend"]

#: The shares a trend follows (metric names of the headline).
TREND_METRICS: tuple[str, ...] = (
    "endpoints_studied",
    "failure_rate",
    "fully_healthy",
    "auth_none",
    "auth_oauth_complete",
    "cors_open",
    "rate_limit_advertised",
    "rate_limiting",
    "tools_mean",
    "tool_tokens_mean",
)


#: Memory for one report query's hash tables: the groups are few, but the planner estimates
#: them from column statistics (up to one per row) and would otherwise choose disk sorts.
REPORT_WORK_MEM = "256MB"

T = TypeVar("T")
_SNAPSHOT = re.compile(r"^[0-9A-Fa-f-]+$")


def _begin(conn: Connection, snapshot: str | None = None) -> None:
    conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    if snapshot is not None:
        # A utility statement takes no bind parameters; the id is checked to be hex and dashes.
        conn.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
    conn.execute(sa.text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def _in_snapshot(engine: Engine, snapshot: str, work: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        _begin(conn, snapshot)
        try:
            return work(conn)
        finally:
            conn.rollback()


def build_report(engine: Engine, run: int | str | None = "latest", top: int = 20) -> Report:
    """The full report of one run (``latest`` = the newest complete run).

    The independent aggregates run on four connections at once (PostgreSQL scans on every
    core), all reading one exported snapshot, so the figures are consistent even while a crawl
    is still writing the run.
    """
    with engine.connect() as conn:
        run_id = queries.resolve_run(conn, run)
        conn.rollback()
        _begin(conn)
        snapshot = str(conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one())
        if not _SNAPSHOT.match(snapshot):
            raise ValueError(f"unexpected snapshot id {snapshot!r}")
        # The exporting transaction stays open until every helper has finished.
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="census-report") as pool:
            by_source = pool.submit(
                _in_snapshot, engine, snapshot, lambda c: queries.sources(c, run_id)
            )
            by_place = pool.submit(
                _in_snapshot, engine, snapshot, lambda c: queries.places(c, run_id, top)
            )
            by_study = pool.submit(
                _in_snapshot, engine, snapshot, lambda c: comparisons.study_counts(c, run_id)
            )
            groups = queries.groups(conn, run_id)
            stats = queries.tool_stats(conn, run_id)
            tokens = queries.top_tokens(conn, run_id, top)
            security = security_breakdowns(conn, run_id, groups, top)
            info = queries.run_info(conn, run_id)
            sources, places = by_source.result(), by_place.result()
            counts = by_study.result()
        conn.rollback()
    headline = queries.headline_from(groups, stats)
    return Report(
        run=info,
        headline=headline,
        breakdowns=(*queries.categorical(groups), sources, *places, tokens, *security),
        comparisons=comparisons.compare(headline, groups, counts),
    )


@dataclass(frozen=True, slots=True)
class Trend:
    """Key headline figures of the last runs, oldest first: ``points[i]`` belongs to ``runs[i]``."""

    runs: tuple[int, ...]
    points: tuple[tuple[Figure, ...], ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "runs": [
                {"run_id": run, "figures": [f.as_json() for f in figures]}
                for run, figures in zip(self.runs, self.points, strict=True)
            ]
        }


def build_trend(engine: Engine, runs: int = 5) -> Trend:
    """The trend metrics over the last ``runs`` runs that observed anything (one scan per run)."""
    with engine.connect() as conn:
        _begin(conn)  # one snapshot and the report's work_mem for every run
        ids = queries.recent_runs(conn, runs)
        points = []
        for run_id in ids:
            figures = {f.metric: f for f in queries.headline(conn, run_id)}
            points.append(tuple(figures[m] for m in TREND_METRICS))
    return Trend(tuple(ids), tuple(points))
