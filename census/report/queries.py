"""SQL aggregates behind the report: every count is computed by PostgreSQL, never in a Python loop.

One hash aggregate over the run's observation partition counts the run by every closed column at
once (:func:`groups`: a few hundred groups); every share of the headline and every categorical
breakdown is arithmetic over those groups.  A second, filtered scan gives tool statistics (mean,
median); sources, domains/platforms and the token ranking need one join each.  ``build_report``
runs the independent queries on parallel connections sharing one snapshot.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from census.errors import UsageError
from census.report.model import Breakdown, Figure, RunInfo
from census.report.schema import SIMULATED_SQL
from census.report.stats import fmt_count, fmt_share, percent, share_interval
from census.vocabulary import is_confirmable

__all__ = [
    "ANSWERING",
    "CONFIRMED",
    "GROUP_COLUMNS",
    "POPULATIONS",
    "SHARE_COLUMNS",
    "TOOL_BUCKETS",
    "Group",
    "breakdowns",
    "categorical",
    "groups",
    "headline",
    "headline_from",
    "places",
    "recent_runs",
    "resolve_run",
    "run_info",
    "share_of",
    "sources",
    "tool_stats",
    "top_tokens",
]

#: Statuses of the denominators (see census.report.model).
CONFIRMED = ("healthy", "degraded")
ANSWERING = ("healthy", "degraded", "auth_required")
FAILED = ("unreachable", "http_error", "not_mcp")

#: The columns every breakdown percentage brings: the share and its 95% Wilson interval.
SHARE_COLUMNS = ("percent", "ci_low", "ci_high")

#: Tool-count buckets, in display order (the last two are the ">30 tools" share).
TOOL_BUCKETS = ("0", "1-5", "6-10", "11-30", "31-100", ">100")


def _in(values: tuple[str, ...]) -> str:
    # Constant vocabulary values only (never user input), so inlining them is safe.
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def resolve_run(conn: Connection, run: int | str | None) -> int:
    """A run id from ``ID``, ``latest`` or None (latest complete run, else the newest run)."""
    if run is None or str(run).strip().lower() == "latest":
        row = conn.execute(
            sa.text(
                "SELECT id FROM crawl_runs ORDER BY (status = 'complete') DESC, id DESC LIMIT 1"
            )
        ).first()
        if row is None:
            raise UsageError("no crawl run in the database yet (run `census crawl` first)")
        return int(row[0])
    try:
        run_id = int(run)
    except ValueError as exc:
        raise UsageError(f"--run must be a run id or 'latest', not {run!r}") from exc
    found = conn.execute(sa.text("SELECT 1 FROM crawl_runs WHERE id = :id"), {"id": run_id}).first()
    if found is None:
        raise UsageError(f"no crawl run with id {run_id}")
    return run_id


def run_info(conn: Connection, run_id: int) -> RunInfo:
    row = (
        conn.execute(
            sa.text(
                "SELECT r.id, r.status, r.methodology_version, r.census_version,"
                " r.endpoint_total, r.created_at, r.started_at, r.finished_at,"
                " (SELECT count(*) FROM observations o WHERE o.run_id = r.id) AS observed,"
                f" {SIMULATED_SQL} AS simulated"
                " FROM crawl_runs r WHERE r.id = :id"
            ),
            {"id": run_id},
        )
        .mappings()
        .one()
    )
    return RunInfo(
        id=int(row["id"]),
        status=row["status"],
        methodology_version=row["methodology_version"],
        census_version=row["census_version"],
        endpoint_total=int(row["endpoint_total"]),
        observed=int(row["observed"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        simulated=bool(row["simulated"]),
    )


def recent_runs(conn: Connection, k: int) -> list[int]:
    """The ids of the last ``k`` complete runs that observed something, oldest first.

    Incomplete runs are never compared (census.report.diff.DEBOUNCE_RULE): a trend skips them.
    """
    rows = conn.execute(
        sa.text(
            "SELECT r.id FROM crawl_runs r WHERE r.status = 'complete'"
            " AND EXISTS (SELECT 1 FROM observations o WHERE o.run_id = r.id)"
            " ORDER BY r.id DESC LIMIT :k"
        ),
        {"k": k},
    ).all()
    return sorted(int(r[0]) for r in rows)


#: Columns of the one-scan GROUP BY every share and categorical breakdown is derived from.
GROUP_COLUMNS: tuple[str, ...] = (
    "status",
    "failure_reason",
    "era",
    "protocol_version",
    "transport",
    "session",
    "auth_class",
    "oauth_dcr",
    "oauth_cimd",
    "oauth_pkce_s256",
    "cors_class",
    "origin_validated",
    "rate_limit_class",
    "tls",
    "flapping",
    "tool_bucket",
)

_BUCKET_SQL = (
    "CASE WHEN tool_count IS NULL THEN NULL WHEN tool_count = 0 THEN '0'"
    " WHEN tool_count <= 5 THEN '1-5' WHEN tool_count <= 10 THEN '6-10'"
    " WHEN tool_count <= 30 THEN '11-30' WHEN tool_count <= 100 THEN '31-100' ELSE '>100' END"
)

# One hash aggregate over the run's partition.  The groups are combinations of closed
# vocabulary values (a few hundred in practice), so everything after this scan is arithmetic
# over groups, never over rows.
_GROUPS_SQL = (
    "SELECT "
    + ", ".join(GROUP_COLUMNS[:-1])
    + f", {_BUCKET_SQL} AS tool_bucket, count(*) AS n"
    + " FROM observations WHERE run_id = :run GROUP BY "
    + ", ".join(GROUP_COLUMNS)
)

_TOOL_STATS_SQL = f"""
SELECT count(tool_count) AS n_tools, sum(tool_count) AS tools_sum,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY tool_count) AS tools_median,
  count(tool_tokens) AS n_tokens, sum(tool_tokens) AS tokens_sum,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY tool_tokens) AS tokens_median
FROM observations
WHERE run_id = :run AND status IN {_in(CONFIRMED)} AND tool_count IS NOT NULL
"""

Group = dict[str, Any]


def groups(conn: Connection, run_id: int) -> list[Group]:
    """The run's observations counted by every vocabulary column at once (one scan)."""
    return [dict(r) for r in conn.execute(sa.text(_GROUPS_SQL), {"run": run_id}).mappings()]


def tool_stats(conn: Connection, run_id: int) -> dict[str, Any]:
    """Count, sum and median of tools and of tool-definition tokens on MCP-confirmed endpoints."""
    return dict(conn.execute(sa.text(_TOOL_STATS_SQL), {"run": run_id}).mappings().one())


_REACHABLE = ("healthy", "degraded", "auth_required", "not_mcp", "http_error")
_PROBED = (*_REACHABLE, "unreachable")

#: Populations (denominator name → statuses); ``all`` is every status.
POPULATIONS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "probed": _PROBED,
    "reachable": _REACHABLE,
    "mcp_answering": ANSWERING,
    "mcp_confirmed": CONFIRMED,
}


def _count(gs: list[Group], population: str, **match: tuple[Any, ...]) -> int:
    statuses = POPULATIONS[population]
    return sum(
        int(g["n"])
        for g in gs
        if (statuses is None or g["status"] in statuses)
        and all(g[col] in values for col, values in match.items())
    )


#: (metric, label, denominator, column, values counted) of every share of the headline.
_SHARES: tuple[tuple[str, str, str, str, tuple[Any, ...]], ...] = (
    ("fully_healthy", "Fully healthy", "probed", "status", ("healthy",)),
    ("auth_none", "Zero authentication", "mcp_answering", "auth_class", ("none",)),
    (
        "auth_static_key_or_bearer",
        "Static key / bearer",
        "mcp_answering",
        "auth_class",
        ("api_key", "bearer"),
    ),
    ("auth_oauth_complete", "OAuth (complete)", "mcp_answering", "auth_class", ("oauth",)),
    ("auth_oauth_partial", "OAuth (partial)", "mcp_answering", "auth_class", ("oauth_partial",)),
    ("auth_other", "Other authentication", "mcp_answering", "auth_class", ("other_auth",)),
    (
        "cors_wildcard",
        "CORS fully open (Bloomberry: ACAO *)",
        "mcp_answering",
        "cors_class",
        ("wildcard",),
    ),
    (
        "cors_open",
        "CORS open (ours: wildcard or reflection)",
        "mcp_answering",
        "cors_class",
        ("wildcard", "reflect", "reflect_credentials"),
    ),
    (
        "cors_reflect_credentials",
        "CORS reflection with credentials",
        "mcp_answering",
        "cors_class",
        ("reflect_credentials",),
    ),
    (
        "rate_limit_advertised",
        "Rate limiting advertised",
        "reachable",
        "rate_limit_class",
        ("advertised",),
    ),
    (
        "rate_limit_enforced",
        "Rate limiting enforced",
        "reachable",
        "rate_limit_class",
        ("enforced",),
    ),
    # The one rate-limit figure comparable to Bloomberry's "rate limited" (a limit header on the
    # initialize answer of an MCP-detected server): any limit census saw, on the MCP population.
    (
        "rate_limiting",
        "Rate limiting (enforced or advertised)",
        "mcp_answering",
        "rate_limit_class",
        ("enforced", "advertised"),
    ),
)


def _share(metric: str, label: str, num: int, den: int, den_label: str) -> Figure:
    """A share with its 95% Wilson interval (``value`` repeats ``percent`` for the trend)."""
    pct = percent(num, den)
    low, high = share_interval(num, den)
    return Figure(metric, label, num, den, den_label, pct, pct, low, high)


def _row_share(n: int, den: int) -> tuple[float | None, float | None, float | None]:
    """(percent, ci_low, ci_high) of one breakdown row."""
    return (percent(n, den), *share_interval(n, den))


def _stat(metric: str, label: str, total: Any, count: int, value: Any, mean: bool) -> Figure:
    if count == 0 or value is None:
        return Figure(metric, label, None, count, "with_tools", None, None)
    numerator = float(total) if mean else None
    return Figure(metric, label, numerator, count, "with_tools", None, round(float(value), 2))


def share_of(
    gs: list[Group],
    metric: str,
    label: str,
    population: str,
    column: str,
    values: tuple[Any, ...],
) -> Figure:
    """One share over the grouped counts: endpoints of ``population`` whose ``column`` is in
    ``values`` (used by the headline and by the comparisons with published figures)."""
    num = _count(gs, population, **{column: values})
    return _share(metric, label, num, _count(gs, population), population)


def headline_from(gs: list[Group], stats: dict[str, Any]) -> tuple[Figure, ...]:
    """The headline figures from the grouped counts and the tool statistics."""
    n_all = _count(gs, "all")
    figures = [Figure("endpoints_studied", "Endpoints studied", n_all, n_all, "all", None, n_all)]
    # Confirmed failures only (census.vocabulary.VERDICT_RULE): a failure whose two attempts
    # disagreed is flapping, not failed; one that recovered on its second attempt stands as
    # what that attempt saw.  Endpoints probed once (not confirmable, or --no-confirm) count
    # as observed.
    # A failure still at one attempt that could have been confirmed: the run did not confirm
    # (--no-confirm, or a run stored before confirmation existed) — the label says so.
    unconfirmed = any(
        g["flapping"] is None and is_confirmable(g["status"], g["failure_reason"]) for g in gs
    )
    figures.append(
        _share(
            "failure_rate",
            "Remote endpoint failure rate" + (" (unconfirmed)" if unconfirmed else " (confirmed)"),
            _count(gs, "probed", status=FAILED, flapping=(None, False)),
            _count(gs, "probed"),
            "probed",
        )
    )
    figures.append(
        share_of(gs, "flapping", "Flapping (two attempts disagreed)", "probed", "flapping", (True,))
    )
    for metric, label, population, column, values in _SHARES:
        figures.append(share_of(gs, metric, label, population, column, values))
    n_tools, n_tokens = int(stats["n_tools"]), int(stats["n_tokens"])
    tools_sum, tokens_sum = stats["tools_sum"] or 0, stats["tokens_sum"] or 0
    over_30 = _count(gs, "mcp_confirmed", tool_bucket=("31-100", ">100"))
    figures += [
        _share("tools_over_30", "Servers with more than 30 tools", over_30, n_tools, "with_tools"),
        _stat(
            "tools_mean",
            "Mean tools per server",
            tools_sum,
            n_tools,
            tools_sum / n_tools if n_tools else None,
            True,
        ),
        _stat(
            "tools_median", "Median tools per server", None, n_tools, stats["tools_median"], False
        ),
        _stat(
            "tool_tokens_mean",
            "Mean token cost of tool definitions",
            tokens_sum,
            n_tokens,
            tokens_sum / n_tokens if n_tokens else None,
            True,
        ),
        _stat(
            "tool_tokens_median",
            "Median token cost of tool definitions",
            None,
            n_tokens,
            stats["tokens_median"],
            False,
        ),
        Figure(
            "tool_tokens_total",
            "Total token cost of tool definitions",
            float(tokens_sum),
            n_tokens,
            "with_tools",
            None,
            float(tokens_sum),
        ),
    ]
    return tuple(figures)


def headline(conn: Connection, run_id: int) -> tuple[Figure, ...]:
    """Every headline figure of one run, with numerator and denominator."""
    return headline_from(groups(conn, run_id), tool_stats(conn, run_id))


# --- breakdowns ------------------------------------------------------------------------------


def _sum_by(
    gs: list[Group], cols: tuple[str, ...], population: str
) -> list[tuple[tuple[Any, ...], int]]:
    statuses = POPULATIONS[population]
    totals: dict[tuple[Any, ...], int] = {}
    for g in gs:
        if statuses is not None and g["status"] not in statuses:
            continue
        key = tuple(g[c] for c in cols)
        totals[key] = totals.get(key, 0) + int(g["n"])
    return sorted(totals.items(), key=lambda kv: (-kv[1], [str(v) for v in kv[0]]))


def _table(
    key: str,
    title: str,
    gs: list[Group],
    cols: tuple[str, ...],
    population: str,
    note: str | None = None,
) -> Breakdown:
    totals = _sum_by(gs, cols, population)
    den = sum(n for _, n in totals)
    rows = tuple((*k, n, *_row_share(n, den)) for k, n in totals)
    return Breakdown(key, title, (*cols, "endpoints", *SHARE_COLUMNS), rows, population, den, note)


def _auth_table(gs: list[Group]) -> Breakdown:
    totals: dict[str, list[int]] = {}
    for g in gs:
        if g["status"] not in ANSWERING:
            continue
        t = totals.setdefault(g["auth_class"], [0, 0, 0, 0])
        n = int(g["n"])
        t[0] += n
        t[1] += n if g["oauth_dcr"] else 0
        t[2] += n if g["oauth_cimd"] else 0
        t[3] += n if g["oauth_pkce_s256"] else 0
    den = sum(t[0] for t in totals.values())
    rows = tuple(
        (cls, t[0], *_row_share(t[0], den), t[1], t[2], t[3])
        for cls, t in sorted(totals.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
    )
    return Breakdown(
        "auth",
        "Authorization (with OAuth details: DCR, CIMD, PKCE S256)",
        (
            "auth_class",
            "endpoints",
            *SHARE_COLUMNS,
            "oauth_dcr",
            "oauth_cimd",
            "oauth_pkce_s256",
        ),
        rows,
        "mcp_answering",
        den,
    )


def _tools_table(gs: list[Group]) -> Breakdown:
    listed = {k[0]: n for k, n in _sum_by(gs, ("tool_bucket",), "mcp_confirmed") if k[0]}
    den = sum(listed.values())
    rows = [(b, listed.get(b, 0), *_row_share(listed.get(b, 0), den)) for b in TOOL_BUCKETS]
    over = sum(int(r[1]) for r in rows if r[0] in ("31-100", ">100"))
    return Breakdown(
        "tools",
        "Tool-count distribution",
        ("tools", "endpoints", *SHARE_COLUMNS),
        tuple(rows),
        "with_tools",
        den,
        f"more than 30 tools: {fmt_count(over)} of {fmt_count(den)}"
        f" = {fmt_share(percent(over, den), *share_interval(over, den))}",
    )


def categorical(gs: list[Group]) -> list[Breakdown]:
    """The breakdowns of closed columns, each over the population its class is defined on."""
    return [
        _table("status", "Status and failure reason", gs, ("status", "failure_reason"), "all"),
        _table("era", "Era and protocol version", gs, ("era", "protocol_version"), "mcp_confirmed"),
        _table(
            "transport",
            "Transport and session mode",
            gs,
            ("transport", "session"),
            "mcp_confirmed",
        ),
        _auth_table(gs),
        _table(
            "cors",
            "CORS class and Origin validation",
            gs,
            ("cors_class", "origin_validated"),
            "mcp_answering",
            "origin_validated is measured only where MCP was confirmed without credentials",
        ),
        _table(
            "rate_limit",
            "Rate limiting",
            gs,
            ("rate_limit_class",),
            "reachable",
            "none_observed means no limit was seen within the polite budget, not 'no limit'",
        ),
        _tools_table(gs),
        _table("tls", "Transport security (TLS)", gs, ("tls",), "reachable"),
    ]


_SOURCES_SQL = f"""
SELECT coalesce(s.name, '(unlisted)') AS source, count(*) AS endpoints,
  count(*) FILTER (WHERE o.status = 'healthy') AS healthy,
  count(*) FILTER (WHERE o.status IN {_in(ANSWERING)}) AS mcp_answering,
  count(*) FILTER (WHERE o.status IN {_in(ANSWERING)} AND o.auth_class = 'none') AS auth_none
FROM observations o
LEFT JOIN listings l ON l.endpoint_id = o.endpoint_id
LEFT JOIN sources s ON s.id = l.source_id
WHERE o.run_id = :run
GROUP BY 1 ORDER BY 2 DESC, 1
"""

# One join of the run with its endpoints serves both the domain ranking and the platform split.
_PLACES_SQL = f"""
WITH d AS MATERIALIZED (
  SELECT coalesce(e.registrable_domain, e.host) AS domain, e.platform_host,
    count(*) AS endpoints,
    count(*) FILTER (WHERE o.status = 'healthy') AS healthy,
    count(*) FILTER (WHERE o.status IN {_in(ANSWERING)}) AS mcp_answering,
    sum(o.tool_count) FILTER (WHERE o.status IN {_in(CONFIRMED)}) AS tools
  FROM observations o JOIN endpoints e ON e.id = o.endpoint_id
  WHERE o.run_id = :run GROUP BY 1, 2
)
(SELECT 'domain' AS kind, domain, bool_or(platform_host) AS platform_host,
   sum(endpoints) AS endpoints, sum(healthy) AS healthy, sum(mcp_answering) AS mcp_answering,
   sum(tools) AS tools
 FROM d GROUP BY domain ORDER BY 4 DESC, domain LIMIT :top)
UNION ALL
(SELECT 'platform', NULL, platform_host, sum(endpoints), sum(healthy), sum(mcp_answering),
   count(DISTINCT domain)
 FROM d GROUP BY platform_host ORDER BY platform_host)
"""

_TOKENS_SQL = """
SELECT e.url, t.server_name, t.tool_count, t.tool_tokens FROM (
  SELECT endpoint_id, server_name, tool_count, tool_tokens FROM observations
  WHERE run_id = :run AND tool_tokens IS NOT NULL
  ORDER BY tool_tokens DESC, endpoint_id LIMIT :top) t
JOIN endpoints e ON e.id = t.endpoint_id
ORDER BY t.tool_tokens DESC, e.url
"""


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def sources(conn: Connection, run_id: int) -> Breakdown:
    result = conn.execute(sa.text(_SOURCES_SQL), {"run": run_id})
    return Breakdown(
        "sources",
        "By source (registry)",
        tuple(result.keys()),
        tuple(tuple(r) for r in result),
        "all",
        None,
        "an endpoint listed by several sources counts once under each",
    )


def places(conn: Connection, run_id: int, top: int) -> list[Breakdown]:
    """The top registrable domains and the platform-host split (one join)."""
    rows = conn.execute(sa.text(_PLACES_SQL), {"run": run_id, "top": top}).all()
    domains = tuple(
        (r[1], _int(r[3]), _int(r[4]), _int(r[5]), r[2], _int(r[6]))
        for r in rows
        if r[0] == "domain"
    )
    platform = tuple(
        (r[2], _int(r[3]), _int(r[4]), _int(r[5]), _int(r[6])) for r in rows if r[0] == "platform"
    )
    return [
        Breakdown(
            "domains",
            f"Top {top} registrable domains",
            (
                "registrable_domain",
                "endpoints",
                "healthy",
                "mcp_answering",
                "platform_host",
                "tools",
            ),
            domains,
            "all",
        ),
        Breakdown(
            "platform",
            "Platform hosts vs own domains",
            ("platform_host", "endpoints", "healthy", "mcp_answering", "domains"),
            platform,
            "all",
        ),
    ]


def top_tokens(conn: Connection, run_id: int, top: int) -> Breakdown:
    result = conn.execute(sa.text(_TOKENS_SQL), {"run": run_id, "top": top})
    return Breakdown(
        "top_tokens",
        f"Top {top} servers by tool-definition tokens",
        tuple(result.keys()),
        tuple(tuple(r) for r in result),
        "with_tools",
    )


def breakdowns(conn: Connection, run_id: int, top: int = 20) -> tuple[Breakdown, ...]:
    """Every breakdown table of one run, in report order (sequentially, on one connection)."""
    return (
        *categorical(groups(conn, run_id)),
        sources(conn, run_id),
        *places(conn, run_id, top),
        top_tokens(conn, run_id, top),
    )
