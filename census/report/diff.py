"""``census diff RUN_A RUN_B``: what changed between two runs.

Endpoints are matched by id (one canonical URL each).  Tools are matched by name within an
endpoint and compared by content hash (SHA-256 of the canonical definition), and only on
endpoints whose tools were listed in both runs — a failed listing is not "every tool removed".

Security findings between the runs (rug pulls, server identity changes, protocol / auth / TLS
downgrades) come from :func:`census.findings.diff_observations` over the endpoints whose tools
or identity columns differ (selected in SQL, so a diff of two large runs loads few tools).  A
rug pull is reported per tool with its old and new *definition* hash (name, description, input
schema: ``census.findings.definition_hash``), so an annotation-only change is not one.

**Debounced changes** (the default; ``raw=True`` / ``--raw`` gives the single-run changes).  One
outage during one run must not read as a change, so a change of ``status``, ``auth_class`` or
``era`` counts only once two consecutive complete runs agree on the new value
(:data:`DEBOUNCE_RULE`).  The *confirmed value* of an endpoint at run X is the value it had in
the latest pair of consecutive complete runs (both at or before X, the endpoint observed in both)
that agreed.  A diff from A to B counts an endpoint observed in both when its confirmed value at
B differs from its confirmed value at A — or, when nothing was confirmed by A yet, from the
first value observed, so that a change is counted once over a sequence of consecutive diffs.
Incomplete runs are never compared: naming one is an error, and they are not part of the
sequence of consecutive complete runs.  Endpoints new and gone, tool changes and the security
findings stay single-run: each is the evidence of one observation.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Connection, Engine

from census.errors import UsageError
from census.findings import diff_observations, diff_tools
from census.records import Observation, ToolDefinition
from census.report import queries
from census.report.safety import clean_text
from census.vocabulary import AuthClass, Era, Finding, Status, Tls

__all__ = [
    "DEBOUNCE_RULE",
    "DIFF_COLUMNS",
    "DiffFinding",
    "RugPull",
    "RunDiff",
    "diff_runs",
    "diff_to_json",
    "incomplete_runs",
    "print_diff",
    "require_complete",
    "trend_changes",
]

#: Observation columns whose transitions a diff counts.
DIFF_COLUMNS = ("status", "auth_class", "era")

#: The debouncing rule, as printed beside debounced counts and in the release's methodology.
DEBOUNCE_RULE = (
    "a change of status, auth_class or era is counted only when two consecutive complete runs"
    " agree on the new value; incomplete runs are never compared"
)

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


# Debounced transitions of one column.  ``seq`` numbers the complete runs up to the later run;
# ``pairs`` keeps each observation that agrees with the same endpoint's observation in the
# previous complete run; the confirmed value at a run is that of its latest such pair.
_DEBOUNCED_SQL = """
WITH runs AS (
  SELECT id, row_number() OVER (ORDER BY id) AS k FROM crawl_runs
  WHERE status = 'complete' AND id <= greatest(:a, :b)
),
both_runs AS (
  SELECT a.endpoint_id FROM observations a JOIN observations b
    ON b.endpoint_id = a.endpoint_id AND b.run_id = :b
  WHERE a.run_id = :a
),
seq AS (
  SELECT o.endpoint_id, r.id AS run_id, r.k, o.{col} AS v
  FROM observations o JOIN runs r ON r.id = o.run_id
  WHERE o.endpoint_id IN (SELECT endpoint_id FROM both_runs)
),
pairs AS (
  SELECT cur.endpoint_id, cur.run_id, cur.k, cur.v FROM seq cur JOIN seq prev
    ON prev.endpoint_id = cur.endpoint_id AND prev.k = cur.k - 1
    AND prev.v IS NOT DISTINCT FROM cur.v
),
at_a AS (
  SELECT DISTINCT ON (endpoint_id) endpoint_id, v FROM pairs WHERE run_id <= :a
  ORDER BY endpoint_id, k DESC
),
at_b AS (
  SELECT DISTINCT ON (endpoint_id) endpoint_id, v FROM pairs WHERE run_id <= :b
  ORDER BY endpoint_id, k DESC
),
first_a AS (
  SELECT DISTINCT ON (endpoint_id) endpoint_id, v FROM seq WHERE run_id <= :a
  ORDER BY endpoint_id, k
),
changed AS (
  SELECT CASE WHEN at_a.endpoint_id IS NULL THEN first_a.v ELSE at_a.v END AS before,
    at_b.v AS after
  FROM both_runs JOIN at_b ON at_b.endpoint_id = both_runs.endpoint_id
  JOIN first_a ON first_a.endpoint_id = both_runs.endpoint_id
  LEFT JOIN at_a ON at_a.endpoint_id = both_runs.endpoint_id
)
SELECT before, after, count(*) AS endpoints FROM changed
WHERE before IS DISTINCT FROM after
GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
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
    #: ``transitions`` are debounced (DEBOUNCE_RULE); False: single-run changes.
    debounced: bool = False
    #: Debounced diffs only: how many endpoints changed each column between the two runs alone.
    single_run: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {"endpoints_new": 0, "endpoints_gone": 0}
        for _, change in self.endpoints:
            out[f"endpoints_{change}"] += 1
        for col, rows in self.transitions.items():
            out[f"{col}_changed"] = sum(n for _, _, n in rows)
            if col in self.single_run:
                out[f"{col}_changed_single_run"] = self.single_run[col]
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
            "debounced": self.debounced,
            "rule": DEBOUNCE_RULE if self.debounced else "single-run changes (--raw)",
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


Transitions = dict[str, tuple[tuple[str | None, str | None, int], ...]]


def _transitions(conn: Connection, a: int, b: int, raw: bool) -> Transitions:
    sql = _TRANSITION_SQL if raw else _DEBOUNCED_SQL
    return {
        col: tuple(
            (r[0], r[1], int(r[2]))
            for r in conn.execute(sa.text(sql.format(col=col)), {"a": a, "b": b})
        )
        for col in DIFF_COLUMNS
    }


def _diff(conn: Connection, a: int, b: int, raw: bool = False) -> RunDiff:
    p = {"a": a, "b": b}
    endpoints = tuple((r[0], r[1]) for r in conn.execute(sa.text(_ENDPOINTS_SQL), p))
    single = _transitions(conn, a, b, raw=True)
    transitions = single if raw else _transitions(conn, a, b, raw=False)
    tools = tuple((r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(sa.text(_TOOLS_SQL), p))
    findings, rug_pulls = _findings(conn, a, b)
    counted = {} if raw else {col: sum(n for *_, n in rows) for col, rows in single.items()}
    return RunDiff(
        a,
        b,
        endpoints,
        transitions,
        tools,
        findings,
        rug_pulls,
        debounced=not raw,
        single_run=counted,
    )


def require_complete(conn: Connection, run_id: int) -> None:
    """A one-line error unless ``run_id`` is complete: incomplete runs are never compared."""
    status = conn.execute(
        sa.text("SELECT status FROM crawl_runs WHERE id = :id"), {"id": run_id}
    ).scalar_one()
    if status != "complete":
        raise UsageError(
            f"run {run_id} is {status}, not complete: only complete runs are compared"
            f" (finish it with `census crawl --resume {run_id}`)"
        )


def diff_runs(engine: Engine, run_a: int | str, run_b: int | str, *, raw: bool = False) -> RunDiff:
    """The differences between two complete runs (ids or ``latest``).

    Status, auth and era changes are debounced (:data:`DEBOUNCE_RULE`) unless ``raw``.
    """
    with engine.connect() as conn:
        a, b = queries.resolve_run(conn, run_a), queries.resolve_run(conn, run_b)
        require_complete(conn, a)
        require_complete(conn, b)
        return _diff(conn, a, b, raw)


def trend_changes(
    engine: Engine, run_ids: tuple[int, ...] | list[int], *, raw: bool = False
) -> list[dict[str, int] | None]:
    """Per run of a trend (oldest first): endpoints whose status / auth / era changed since the
    previous run of the trend (debounced unless ``raw``); ``None`` for the first run."""
    out: list[dict[str, int] | None] = [None] if run_ids else []
    with engine.connect() as conn:
        for a, b in itertools.pairwise(run_ids):
            rows = _transitions(conn, a, b, raw)
            out.append({col: sum(n for *_, n in r) for col, r in rows.items()})
    return out


def incomplete_runs(conn: Connection, since: int) -> list[int]:
    """Runs from ``since`` on that observed something but are not complete (a trend skips them)."""
    rows = conn.execute(
        sa.text(
            "SELECT r.id FROM crawl_runs r WHERE r.id >= :since AND r.status <> 'complete'"
            " AND EXISTS (SELECT 1 FROM observations o WHERE o.run_id = r.id) ORDER BY r.id"
        ),
        {"since": since},
    )
    return [int(r[0]) for r in rows]


def diff_to_json(d: RunDiff) -> str:
    return json.dumps(d.as_json(), indent=2) + "\n"


def print_diff(d: RunDiff, console: Console, limit: int = 50) -> None:
    """Counts, transitions and the first ``limit`` endpoint and tool changes as rich tables."""
    mode = "debounced: " + DEBOUNCE_RULE if d.debounced else "single-run changes (--raw)"
    summary = Table(title=f"run {d.run_a} → run {d.run_b}", caption=mode, title_justify="left")
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
