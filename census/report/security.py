"""Security tables of a report: the seed article's checklist across the ecosystem, the
maintenance tiers of listed servers and impersonation findings.

The rules are :mod:`census.findings` (the one definition): SQL only groups the observations by
the few columns a check reads (a million observations fall into a few hundred groups), and each
group's representative observation is scored by :func:`census.findings.checklist`, weighted by
its count.  Tiers are computed per registry server from the stored (redacted) registry entry,
as of the run's creation time, so a report of an old run says what was true then.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from census.findings import (
    CHECKS,
    CheckValue,
    Tier,
    checklist,
    impersonation,
    maintenance_tier,
    server_meta_from_registry,
)
from census.records import Observation
from census.report.model import Breakdown
from census.report.stats import percent, share_interval
from census.vocabulary import AuthClass, CorsClass, RateLimitClass, Status, Tls, Transport

__all__ = ["checklist_breakdown", "security_breakdowns", "tier_breakdowns"]

# Observations whose URL carried a secret, by status: the one checklist input the report's
# GROUP BY (census.report.queries.groups) does not carry.  A redacted secret is always in
# ``findings`` (the classifier raises it from the URL, the crawl from the endpoint row).
_SECRETS_SQL = """
SELECT status, count(*) FROM observations
WHERE run_id = :run AND 'secret_in_url' = ANY(findings)
GROUP BY status
"""
#: Checks whose rule has no ``false`` outcome (census/findings/checklist.py): rate limiting is
#: ``true`` when a limit was seen and ``not_scored`` otherwise, because showing its absence needs
#: a burst test census refuses to run.  A pass rate over such a check is 100% by construction,
#: so the report says "not scored" instead (the share itself is the headline's rate-limiting
#: figure, over the MCP population).
PRESENCE_ONLY_CHECKS = frozenset({"rate_limiting"})
#: The report's tool-count buckets above the checklist's 30-tool line.
_OVER_30 = frozenset({"31-100", ">100"})

# Registry entries (official-registry shape) of endpoints observed in the run, one per server
# name: the newest listing wins.
_SERVERS_SQL = """
SELECT DISTINCT ON (l.raw -> 'server' ->> 'name') l.raw
FROM listings l
WHERE l.raw ? 'server' AND l.raw -> 'server' ? 'name'
  AND EXISTS (SELECT 1 FROM observations o WHERE o.run_id = :run AND o.endpoint_id = l.endpoint_id)
ORDER BY l.raw -> 'server' ->> 'name', l.last_seen DESC
"""


def _enum(kind: Any, value: str | None) -> Any:
    return kind(value) if value is not None and value in {v.value for v in kind} else None


def _representative(group: dict[str, Any], secret: bool) -> Observation:
    """An observation carrying the columns of one report group (tool_count stands for its
    bucket: 31 above the 30-tool line, 0 at or below it)."""
    bucket = group.get("tool_bucket")
    return Observation(
        url="",
        host="",
        registrable_domain=None,
        probed_at=datetime.min.replace(tzinfo=UTC),
        status=Status(group["status"]),
        transport=_enum(Transport, group.get("transport")),
        auth_class=_enum(AuthClass, group.get("auth_class")),
        tool_count=None if bucket is None else (31 if bucket in _OVER_30 else 0),
        cors_class=_enum(CorsClass, group.get("cors_class")),
        rate_limit_class=_enum(RateLimitClass, group.get("rate_limit_class")),
        tls=_enum(Tls, group.get("tls")),
        origin_validated=group.get("origin_validated"),
        oauth_pkce_s256=group.get("oauth_pkce_s256"),
        findings=("secret_in_url",) if secret else (),
    )


def checklist_breakdown(conn: Connection, run_id: int, groups: list[dict[str, Any]]) -> Breakdown:
    """ "Checklist compliance across the ecosystem": per check, endpoints passed / failed / not
    scored and the pass rate over the scored ones.

    ``groups`` are the report's one-scan GROUP BY (:func:`census.report.queries.groups`).  The
    secret flag is counted per status apart (one cheap scan) and spread over the status's
    groups: ``no_secret_in_url`` reads nothing but status and the flag, and every other check
    reads no flag, so each group is scored once as "no secret" and the secret endpoints of its
    status are then moved by scoring one secret representative.
    """
    counts = {c.name: Counter[CheckValue]() for c in CHECKS}
    total = 0
    for group in groups:
        n = int(group["n"])
        total += n
        for name, value in checklist(_representative(group, secret=False)).values:
            counts[name][value] += n
    secrets = conn.execute(sa.text(_SECRETS_SQL), {"run": run_id}).all()
    for status, n in secrets:
        group = {"status": status}
        plain = checklist(_representative(group, secret=False))["no_secret_in_url"]
        flagged = checklist(_representative(group, secret=True))["no_secret_in_url"]
        counts["no_secret_in_url"][plain] -= int(n)
        counts["no_secret_in_url"][flagged] += int(n)
    rows: list[tuple[Any, ...]] = []
    for check in CHECKS:
        c = counts[check.name]
        passed, failed = c[CheckValue.TRUE], c[CheckValue.FALSE]
        not_scored = c[CheckValue.NOT_SCORED]
        if check.name in PRESENCE_ONLY_CHECKS:
            # Never a pass rate: every endpoint without a visible limit is not scored.
            rows.append((check.name, passed, failed, not_scored, None, None, None))
            continue
        scored = passed + failed
        rows.append(
            (
                check.name,
                passed,
                failed,
                not_scored,
                percent(passed, scored),
                *share_interval(passed, scored),
            )
        )
    return Breakdown(
        "checklist",
        "Checklist compliance across the ecosystem",
        ("check", "passed", "failed", "not_scored", "pass_rate", "ci_low", "ci_high"),
        tuple(rows),
        "all",
        total,
        "Scored only where observable from outside (healthy, degraded, auth_required); "
        "pass_rate = passed / (passed + failed). rate_limiting has no pass rate (not scored): "
        "absence of a limit is never observed politely, so it cannot fail; its share is the "
        "headline's rate-limiting figure. Rules: census/findings/FINDINGS.md §3.",
    )


def _run_created(conn: Connection, run_id: int) -> datetime:
    created = conn.execute(
        sa.text("SELECT created_at FROM crawl_runs WHERE id = :run"), {"run": run_id}
    ).scalar_one()
    return created if isinstance(created, datetime) else datetime.now(UTC)


def tier_breakdowns(conn: Connection, run_id: int, top: int = 20) -> tuple[Breakdown, Breakdown]:
    """Servers by maintenance tier, and the impersonation findings (first ``top``)."""
    now = _run_created(conn, run_id)
    tiers: Counter[str] = Counter()
    found: list[tuple[str, str, str]] = []
    for (raw,) in conn.execute(sa.text(_SERVERS_SQL), {"run": run_id}):
        meta = server_meta_from_registry(raw if isinstance(raw, dict) else {})
        result = maintenance_tier(meta, now=now)
        tiers[str(result.tier) if result.tier is not None else ""] += 1
        claim = impersonation(meta)
        if claim is not None:
            found.append((meta.name, claim.brand, claim.claimed_by))
    servers = sum(tiers.values())
    order = [str(t) for t in Tier] + [""]
    tier_rows = tuple(
        (t or None, tiers[t], percent(tiers[t], servers), *share_interval(tiers[t], servers))
        for t in order
        if tiers[t]
    )
    tier_table = Breakdown(
        "maintenance_tier",
        "Maintenance tier of listed servers",
        ("maintenance_tier", "servers", "percent", "ci_low", "ci_high"),
        tier_rows,
        None,
        servers,
        "Registry servers with an endpoint in this run. 1: verified domain serving its own "
        "endpoint; 2: verified namespace hosted elsewhere; 3: community namespace with a "
        "repository; x: no update for 90+ days, or community without repository. "
        "Rules: census/findings/FINDINGS.md §4.",
    )
    found.sort(key=lambda r: (r[1], r[0]))
    imp_table = Breakdown(
        "impersonation",
        f"Impersonation findings (first {top} of {len(found)})",
        ("server", "brand", "claimed_by"),
        tuple(found[:top]),
        None,
        len(found),
        "A name or title claiming a brand whose domains neither publish nor host it.",
    )
    return tier_table, imp_table


def security_breakdowns(
    conn: Connection, run_id: int, groups: list[dict[str, Any]], top: int = 20
) -> tuple[Breakdown, ...]:
    """Every security table of a report, in report order (``groups``: the report's GROUP BY)."""
    return (checklist_breakdown(conn, run_id, groups), *tier_breakdowns(conn, run_id, top))
