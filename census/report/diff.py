"""``census diff RUN_A RUN_B``: what changed between two runs.

Endpoints are matched by id (one canonical URL each).  Tools are matched by name within an
endpoint and compared by content hash (SHA-256 of the canonical definition), and only on
endpoints whose tools were listed in both runs — a failed listing is not "every tool removed".

Security findings between the runs (rug pulls, server identity changes, protocol / auth / TLS
downgrades) come from :func:`census.findings.diff_observations` over the endpoints whose tools
or identity columns differ (selected in SQL, so a diff of two large runs loads few tools).  A
rug pull is reported per tool with its old and new *definition* hash (name, description, input
schema: ``census.findings.definition_hash``), so an annotation-only change is not one.
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

from census.findings import diff_observations, diff_tools
from census.records import Observation, ToolDefinition
from census.report import queries
from census.report.safety import clean_text
from census.vocabulary import AuthClass, Era, Finding, Status, Tls

__all__ = [
    "DIFF_COLUMNS",
    "DiffFinding",
    "RugPull",
    "RunDiff",
    "diff_runs",
    "diff_to_json",
    "print_diff",
]

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


# Endpoints observed in both runs whose identity columns or listed tools differ: the only
# ones census.findings.diff_observations can raise a finding on.
_CANDIDATES_SQL = """
SELECT a.endpoint_id FROM observations a JOIN observations b
  ON b.endpoint_id = a.endpoint_id AND b.run_id = :b
WHERE a.run_id = :a AND (
  (a.server_name, a.era, a.protocol_version, a.auth_class, a.tls)
    IS DISTINCT FROM (b.server_name, b.era, b.protocol_version, b.auth_class, b.tls)
  OR (a.tool_count IS NOT NULL AND b.tool_count IS NOT NULL AND
      ARRAY(SELECT tool_sha256 FROM observation_tools t WHERE t.run_id = :a
            AND t.endpoint_id = a.endpoint_id ORDER BY position)
      IS DISTINCT FROM
      ARRAY(SELECT tool_sha256 FROM observation_tools t WHERE t.run_id = :b
            AND t.endpoint_id = a.endpoint_id ORDER BY position)))
"""

_OBSERVATIONS_SQL = """
SELECT o.run_id, o.endpoint_id, e.url, e.host, o.probed_at, o.status, o.era,
  o.protocol_version, o.server_name, o.auth_class, o.tls, o.tool_count
FROM observations o JOIN endpoints e ON e.id = o.endpoint_id
WHERE o.run_id IN (:a, :b) AND o.endpoint_id = ANY(:ids)
"""

_TOOL_DEFS_SQL = """
SELECT ot.run_id, ot.endpoint_id, t.name, t.description, t.input_schema, t.canonical_json,
  t.sha256, t.tokens
FROM observation_tools ot JOIN tool_definitions t ON t.sha256 = ot.tool_sha256
WHERE ot.run_id IN (:a, :b) AND ot.endpoint_id = ANY(:ids)
ORDER BY ot.run_id, ot.endpoint_id, ot.position
"""


@dataclass(frozen=True, slots=True)
class DiffFinding:
    """One finding about one endpoint between the runs (``census.findings.EndpointChange``)."""

    url: str
    code: str
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class RugPull:
    """One rug-pulled tool: same name in both runs, a different definition hash."""

    url: str
    tool: str
    kinds: tuple[str, ...]  # description_changed, schema_changed, schema_widened, …
    hash_before: str | None
    hash_after: str | None
    introduced: tuple[str, ...]  # poisoning codes the new definition added


@dataclass(frozen=True, slots=True)
class RunDiff:
    """Differences between run ``run_a`` (before) and ``run_b`` (after)."""

    run_a: int
    run_b: int
    endpoints: tuple[tuple[str, str], ...]  # (url, "new" | "gone")
    transitions: dict[str, tuple[tuple[str | None, str | None, int], ...]]
    tools: tuple[tuple[str, str, str, str | None, str | None], ...]  # url, tool, change, a, b
    findings: tuple[DiffFinding, ...] = ()
    rug_pulls: tuple[RugPull, ...] = ()

    def counts(self) -> dict[str, int]:
        out = {"endpoints_new": 0, "endpoints_gone": 0}
        for _, change in self.endpoints:
            out[f"endpoints_{change}"] += 1
        for col, rows in self.transitions.items():
            out[f"{col}_changed"] = sum(n for _, _, n in rows)
        for change in ("added", "removed", "changed"):
            out[f"tools_{change}"] = sum(1 for t in self.tools if t[2] == change)
        out["rug_pull_tools"] = len(self.rug_pulls)
        for code in _DIFF_CODES:
            out[str(code)] = len({f.url for f in self.findings if f.code == code})
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
            "findings": [
                {"url": f.url, "code": f.code, "field": f.field, "before": f.before,
                 "after": f.after}
                for f in self.findings
            ],
            "rug_pulls": [
                {"url": r.url, "tool": r.tool, "kinds": list(r.kinds),
                 "definition_hash_before": r.hash_before, "definition_hash_after": r.hash_after,
                 "poisoning_introduced": list(r.introduced)}
                for r in self.rug_pulls
            ],
        }  # fmt: skip


#: The run-to-run finding codes, in the order the counts list them.
_DIFF_CODES = (
    Finding.RUG_PULL,
    Finding.SERVER_IDENTITY_CHANGED,
    Finding.PROTOCOL_DOWNGRADE,
    Finding.AUTH_DOWNGRADE,
    Finding.TLS_DOWNGRADE,
)


def _era(value: str | None) -> Era | None:
    return Era(value) if value in set(Era) else None


def _auth(value: str | None) -> AuthClass | None:
    return AuthClass(value) if value in set(AuthClass) else None


def _tls(value: str | None) -> Tls | None:
    return Tls(value) if value in set(Tls) else None


def _observations(
    conn: Connection, a: int, b: int, ids: list[int]
) -> dict[tuple[int, int], Observation]:
    """The stored observations of ``ids`` in both runs, with their tools, as records."""
    p = {"a": a, "b": b, "ids": ids}
    tools: dict[tuple[int, int], list[ToolDefinition]] = {}
    for r in conn.execute(sa.text(_TOOL_DEFS_SQL), p):
        tools.setdefault((int(r[0]), int(r[1])), []).append(
            ToolDefinition(r[2], r[3], r[4], r[5], r[6], int(r[7]))
        )
    out: dict[tuple[int, int], Observation] = {}
    for m in conn.execute(sa.text(_OBSERVATIONS_SQL), p).mappings():
        key = (int(m["run_id"]), int(m["endpoint_id"]))
        out[key] = Observation(
            url=m["url"],
            host=m["host"],
            registrable_domain=None,
            probed_at=m["probed_at"],
            status=Status(m["status"]),
            era=_era(m["era"]),
            protocol_version=m["protocol_version"],
            server_name=m["server_name"],
            auth_class=_auth(m["auth_class"]),
            tls=_tls(m["tls"]),
            tool_count=m["tool_count"],
            tools=tuple(tools.get(key, ())),
        )
    return out


def _findings(
    conn: Connection, a: int, b: int
) -> tuple[tuple[DiffFinding, ...], tuple[RugPull, ...]]:
    ids = [int(r[0]) for r in conn.execute(sa.text(_CANDIDATES_SQL), {"a": a, "b": b})]
    if not ids:
        return (), ()
    observed = _observations(conn, a, b, ids)
    findings: list[DiffFinding] = []
    rug_pulls: list[RugPull] = []
    for endpoint_id in ids:
        before, after = observed.get((a, endpoint_id)), observed.get((b, endpoint_id))
        if before is None or after is None:
            continue
        changes = diff_observations(before, after)
        for c in changes:
            findings.append(DiffFinding(before.url, str(c.code), c.field, c.before, c.after))
        if any(c.code is Finding.RUG_PULL for c in changes):
            for t in diff_tools(before.tools, after.tools).changes:
                if t.rug_pull:
                    kinds = tuple(str(k) for k in t.kinds)
                    rug_pulls.append(
                        RugPull(before.url, t.tool, kinds, t.before, t.after, t.introduced)
                    )
    findings.sort(key=lambda f: (f.code, f.url))
    rug_pulls.sort(key=lambda r: (r.url, r.tool))
    return tuple(findings), tuple(rug_pulls)


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
    findings, rug_pulls = _findings(conn, a, b)
    return RunDiff(a, b, endpoints, transitions, tools, findings, rug_pulls)


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
    short: list[tuple[str, ...]] = [
        (r.url, r.tool, ", ".join(r.kinds), (r.hash_before or "")[:12], (r.hash_after or "")[:12])
        for r in d.rug_pulls
    ]
    found: list[tuple[str, ...]] = [
        (f.url, f.code, f.field, f.before or "", f.after or "") for f in d.findings
    ]
    lists: tuple[tuple[str, tuple[str, ...], list[tuple[str, ...]]], ...] = (
        ("rug pulls", ("url", "tool", "change", "hash before", "hash after"), short),
        ("security findings", ("url", "finding", "field", "before", "after"), found),
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
