"""``census diff RUN_A RUN_B``: what changed between two runs, computed in SQL.

Endpoints are matched by id (one canonical URL each).  Tools are matched by name within an
endpoint and compared by content hash (SHA-256 of the canonical definition), and only on
endpoints whose tools were listed in both runs — a failed listing is not "every tool removed".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Connection, Engine

from census.report import queries
from census.report.safety import clean_text

__all__ = ["DIFF_COLUMNS", "RunDiff", "diff_runs", "diff_to_json", "print_diff"]

#: Observation columns whose transitions a diff counts.
DIFF_COLUMNS = ("status", "auth_class", "era")

_ENDPOINTS_SQL = """
SELECT e.url, CASE WHEN a.endpoint_id IS NULL THEN 'new' ELSE 'gone' END AS change
FROM (SELECT endpoint_id FROM observations WHERE run_id = :a) a
FULL JOIN (SELECT endpoint_id FROM observations WHERE run_id = :b) b USING (endpoint_id)
JOIN endpoints e ON e.id = coalesce(a.endpoint_id, b.endpoint_id)
WHERE a.endpoint_id IS NULL OR b.endpoint_id IS NULL
ORDER BY 2, e.url
"""

_TRANSITION_SQL = """
SELECT a.{col} AS before, b.{col} AS after, count(*) AS endpoints
FROM observations a JOIN observations b ON b.endpoint_id = a.endpoint_id AND b.run_id = :b
WHERE a.run_id = :a AND a.{col} IS DISTINCT FROM b.{col}
GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
"""

_TOOLS_SQL = """
WITH listed AS (
  SELECT a.endpoint_id FROM observations a JOIN observations b
    ON b.endpoint_id = a.endpoint_id AND b.run_id = :b
  WHERE a.run_id = :a AND a.tool_count IS NOT NULL AND b.tool_count IS NOT NULL
),
ta AS (SELECT ot.endpoint_id, t.name, t.sha256 FROM observation_tools ot
  JOIN tool_definitions t ON t.sha256 = ot.tool_sha256 WHERE ot.run_id = :a),
tb AS (SELECT ot.endpoint_id, t.name, t.sha256 FROM observation_tools ot
  JOIN tool_definitions t ON t.sha256 = ot.tool_sha256 WHERE ot.run_id = :b)
SELECT e.url, coalesce(ta.name, tb.name) AS tool,
  CASE WHEN ta.name IS NULL THEN 'added' WHEN tb.name IS NULL THEN 'removed'
       ELSE 'changed' END AS change,
  ta.sha256 AS sha256_before, tb.sha256 AS sha256_after
FROM ta FULL JOIN tb ON tb.endpoint_id = ta.endpoint_id AND tb.name = ta.name
JOIN endpoints e ON e.id = coalesce(ta.endpoint_id, tb.endpoint_id)
WHERE ta.sha256 IS DISTINCT FROM tb.sha256
  AND coalesce(ta.endpoint_id, tb.endpoint_id) IN (SELECT endpoint_id FROM listed)
ORDER BY 3, e.url, 2
"""


@dataclass(frozen=True, slots=True)
class RunDiff:
    """Differences between run ``run_a`` (before) and ``run_b`` (after)."""

    run_a: int
    run_b: int
    endpoints: tuple[tuple[str, str], ...]  # (url, "new" | "gone")
    transitions: dict[str, tuple[tuple[str | None, str | None, int], ...]]
    tools: tuple[tuple[str, str, str, str | None, str | None], ...]  # url, tool, change, a, b

    def counts(self) -> dict[str, int]:
        out = {"endpoints_new": 0, "endpoints_gone": 0}
        for _, change in self.endpoints:
            out[f"endpoints_{change}"] += 1
        for col, rows in self.transitions.items():
            out[f"{col}_changed"] = sum(n for _, _, n in rows)
        for change in ("added", "removed", "changed"):
            out[f"tools_{change}"] = sum(1 for t in self.tools if t[2] == change)
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "counts": self.counts(),
            "endpoints": [{"url": u, "change": c} for u, c in self.endpoints],
            "transitions": {
                col: [{"before": a, "after": b, "endpoints": n} for a, b, n in rows]
                for col, rows in self.transitions.items()
            },
            "tools": [
                {"url": u, "tool": t, "change": c, "sha256_before": a, "sha256_after": b}
                for u, t, c, a, b in self.tools
            ],
        }


def _diff(conn: Connection, a: int, b: int) -> RunDiff:
    p = {"a": a, "b": b}
    endpoints = tuple((r[0], r[1]) for r in conn.execute(sa.text(_ENDPOINTS_SQL), p))
    transitions = {
        col: tuple(
            (r[0], r[1], int(r[2]))
            for r in conn.execute(sa.text(_TRANSITION_SQL.format(col=col)), p)
        )
        for col in DIFF_COLUMNS
    }
    tools = tuple((r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(sa.text(_TOOLS_SQL), p))
    return RunDiff(a, b, endpoints, transitions, tools)


def diff_runs(engine: Engine, run_a: int | str, run_b: int | str) -> RunDiff:
    """The differences between two runs (ids or ``latest``)."""
    with engine.connect() as conn:
        return _diff(conn, queries.resolve_run(conn, run_a), queries.resolve_run(conn, run_b))


def diff_to_json(d: RunDiff) -> str:
    return json.dumps(d.as_json(), indent=2) + "\n"


def print_diff(d: RunDiff, console: Console, limit: int = 50) -> None:
    """Counts, transitions and the first ``limit`` endpoint and tool changes as rich tables."""
    summary = Table(title=f"run {d.run_a} → run {d.run_b}", title_justify="left")
    summary.add_column("change")
    summary.add_column("count", justify="right")
    for key, n in d.counts().items():
        summary.add_row(key, f"{n:,}")
    console.print(summary)
    for col, rows in d.transitions.items():
        if not rows:
            continue
        t = Table(title=f"{col} changes", title_justify="left")
        for name in ("before", "after", "endpoints"):
            t.add_column(name, justify="right" if name == "endpoints" else "left")
        for before, after, n in rows:
            t.add_row(Text(before or "(empty)"), Text(after or "(empty)"), f"{n:,}")
        console.print(t)
    lists: tuple[tuple[str, tuple[str, ...], list[tuple[str, ...]]], ...] = (
        ("endpoints new / gone", ("url", "change"), list(d.endpoints)),
        ("tools added / removed / changed", ("url", "tool", "change"), [r[:3] for r in d.tools]),
    )
    for title, cols, items in lists:
        if not items:
            continue
        t = Table(title=f"{title} (first {limit} of {len(items)})", title_justify="left")
        for name in cols:
            t.add_column(name, overflow="fold")
        for item in items[:limit]:
            t.add_row(*(Text(clean_text(v)) for v in item))
        console.print(t)
