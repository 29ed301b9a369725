"""Published figures side by side: each figure of the seed article's ecosystem tables (and of
radixia's census release) next to census's data read two ways — under the study's own
definition, recomputed from census's stored evidence, and under census's definition.

The reference figures, their definitions and sources are one data file,
``census/report/data/published_figures.json``.  A figure's ``reading`` names the function here
that applies the study's definition; its ``census_metric`` names census's figure.

Bloomberry's definitions are those of its released scanner (``mcp_scanner.rb``), applied to the
first ``initialize`` exchange census stored for each endpoint: the same request (an
unauthenticated ``initialize`` POST without ``Origin``) seen the way that scanner reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from census.report import queries
from census.report.model import Comparison, Figure
from census.report.stats import percent, share_interval

__all__ = [
    "BloomberryReading",
    "StudyCounts",
    "bloomberry_reading",
    "compare",
    "published_figures",
    "study_counts",
]

# The first `initialize` exchange of each observation's evidence, with only the fields the
# studies' definitions read (the body is capped: every keyword rule looks at a short error).
_EVIDENCE_SQL = """
SELECT o.status, o.era, o.tool_count,
  coalesce(e.registrable_domain, e.host) AS domain, e.platform_host,
  (x.ex ->> 'status')::int AS http_status,
  x.ex -> 'response_headers' ->> 'www-authenticate' AS www_authenticate,
  x.ex -> 'response_headers' ->> 'access-control-allow-origin' AS acao,
  coalesce((x.ex -> 'response_headers') ?| array['ratelimit-limit', 'x-ratelimit-limit',
    'x-rate-limit-limit'], false) AS limit_header,
  left(x.ex ->> 'body', 65536) AS body,
  (x.ex -> 'timings_ms' ->> 'total')::float AS total_ms
FROM observations o
JOIN endpoints e ON e.id = o.endpoint_id
LEFT JOIN evidence v ON v.run_id = o.run_id AND v.endpoint_id = o.endpoint_id
  AND v.attempt = o.attempts  -- the attempt that stands (census.vocabulary.VERDICT_RULE)
LEFT JOIN LATERAL (
  SELECT t.ex FROM jsonb_array_elements(
    CASE WHEN jsonb_typeof(v.data -> 'exchanges') = 'array' THEN v.data -> 'exchanges'
    ELSE '[]'::jsonb END) WITH ORDINALITY AS t(ex, i)
  WHERE t.ex ->> 'step' = 'initialize' ORDER BY t.i LIMIT 1
) x ON true
WHERE o.run_id = :run
"""

#: AliveMCP's "under 5 s".
_HEALTHY_MS = 5000.0
_HANDSHAKE_ERAS = frozenset({"modern", "dual", "handshake"})
_MODERN_ERAS = frozenset({"modern", "dual"})
_OAUTH_HEADER = ("resource_metadata", "oauth-protected-resource")
_OAUTH_BODY = ("oauth-protected-resource", "authorization_uri")
_API_KEY_WORDS = (
    "api key",
    "api_key",
    "x-api-key",
    "apikey",
    "bearer token",
    "missing authorization",
    "unauthorized",
)


@dataclass(frozen=True, slots=True)
class BloomberryReading:
    """Bloomberry's scanner's verdict on one initialize answer."""

    detected: bool = False
    no_auth: bool = False
    oauth: bool = False
    api_key: bool = False
    wide_open_cors: bool = False
    rate_limited: bool = False


def _json_text(body: str) -> str:
    # The scanner's SSE rule: if the body contains "\ndata: ", parse the last data frame.
    if "\ndata: " not in body:
        return body
    parts = body.split("\ndata: ")
    while len(parts) > 1 and parts[-1] == "":  # Ruby's split drops trailing empty fields
        parts.pop()
    return parts[-1].strip()


def bloomberry_reading(
    http_status: int | None,
    body: str | None,
    www_authenticate: str | None = None,
    acao: str | None = None,
    limit_header: bool = False,
) -> BloomberryReading:
    """Bloomberry's classifiers (mcp_scanner.rb: probe_path, classify_auth, classify_security).

    "MCP detected": an HTTP answer whose body (or last SSE data frame) parses as a JSON object
    with at least one key, whatever the status.  Then, in order: ``no_auth`` when
    ``result.protocolVersion`` is present; else ``oauth`` on an OAuth sign in WWW-Authenticate or
    the body; else ``api_key`` on key/bearer/"unauthorized" wording.  ``wide_open_cors``:
    ``Access-Control-Allow-Origin`` is exactly ``*``; ``rate_limited``: a limit header.
    """
    if http_status is None or body is None:
        return BloomberryReading()
    text = _json_text(body)
    try:
        doc = json.loads(text)
    except ValueError:
        return BloomberryReading()
    if not isinstance(doc, dict) or not doc:
        return BloomberryReading()
    result = doc.get("result")
    no_auth = isinstance(result, dict) and bool(result.get("protocolVersion"))
    www = www_authenticate or ""
    oauth = not no_auth and (
        any(sign in www for sign in _OAUTH_HEADER)
        or any(sign in text for sign in _OAUTH_BODY)
        or ("invalid_token" in text and "access token" in text)
    )
    lower = text.lower()
    api_key = (
        not no_auth
        and not oauth
        and (any(w in lower for w in _API_KEY_WORDS) or "Authorization required" in text)
    )
    return BloomberryReading(
        detected=True,
        no_auth=no_auth,
        oauth=oauth,
        api_key=api_key,
        wide_open_cors=acao == "*",
        rate_limited=limit_header,
    )


def _has_initialize_result(http_status: int | None, body: str | None) -> bool:
    return (
        http_status is not None
        and 200 <= http_status < 300
        and bloomberry_reading(http_status, body).no_auth
    )


@dataclass(slots=True)
class StudyCounts:
    """What the studies' definitions count in one run (numerators and their populations)."""

    probed: int = 0
    bb_detected: int = 0
    bb_no_auth: int = 0
    bb_oauth: int = 0
    bb_api_key: int = 0
    bb_wide_open_cors: int = 0
    bb_rate_limited: int = 0
    ym_dead: int = 0
    am_healthy: int = 0
    handshakes: int = 0
    modern_handshakes: int = 0
    org_domains: set[str] = field(default_factory=set)
    org_domains_confirmed: set[str] = field(default_factory=set)

    def add(self, row: dict[str, Any]) -> None:
        if row["status"] == "skipped":
            return
        self.probed += 1
        status, body = row["http_status"], row["body"]
        bb = bloomberry_reading(
            status, body, row["www_authenticate"], row["acao"], bool(row["limit_header"])
        )
        if bb.detected:
            self.bb_detected += 1
            self.bb_no_auth += bb.no_auth
            self.bb_oauth += bb.oauth
            self.bb_api_key += bb.api_key
            self.bb_wide_open_cors += bb.wide_open_cors
            self.bb_rate_limited += bb.rate_limited
        initialized = _has_initialize_result(status, body)
        if not (initialized or status in (401, 403)):
            self.ym_dead += 1
        ms = row["total_ms"]
        if initialized and (row["tool_count"] or 0) > 0 and ms is not None and ms < _HEALTHY_MS:
            self.am_healthy += 1
        era = row["era"]
        if era in _HANDSHAKE_ERAS:
            self.handshakes += 1
            self.modern_handshakes += era in _MODERN_ERAS
        if not row["platform_host"]:
            self.org_domains.add(row["domain"])
            if era in _HANDSHAKE_ERAS:
                self.org_domains_confirmed.add(row["domain"])


def study_counts(conn: Connection, run_id: int) -> StudyCounts:
    """One pass over the run's observations and the first initialize exchange of each."""
    counts = StudyCounts()
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        sa.text(_EVIDENCE_SQL), {"run": run_id}
    )
    for row in result.mappings():
        counts.add(dict(row))
    return counts


def _readings(c: StudyCounts) -> dict[str, tuple[int, int, str]]:
    """reading name → (numerator, denominator, denominator label)."""
    return {
        "bb_no_auth": (c.bb_no_auth, c.bb_detected, "bb_mcp_detected"),
        "bb_api_key": (c.bb_api_key, c.bb_detected, "bb_mcp_detected"),
        "bb_oauth": (c.bb_oauth, c.bb_detected, "bb_mcp_detected"),
        "bb_rate_limited": (c.bb_rate_limited, c.bb_detected, "bb_mcp_detected"),
        "bb_wide_open_cors": (c.bb_wide_open_cors, c.bb_detected, "bb_mcp_detected"),
        "ym_dead": (c.ym_dead, c.probed, "probed"),
        "am_healthy": (c.am_healthy, c.probed, "probed"),
        "rx_confirmed_handshake": (
            len(c.org_domains_confirmed),
            len(c.org_domains),
            "org_domains",
        ),
        "rx_modern_era": (c.modern_handshakes, c.handshakes, "handshake_confirmed"),
    }


#: Census figures a comparison needs that the headline does not carry:
#: metric → (label, population, column, values).
_EXTRA_METRICS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "mcp_confirmed_share": (
        "MCP confirmed (healthy or degraded)",
        "probed",
        "status",
        queries.CONFIRMED,
    ),
    "era_modern_share": (
        "Answers server/discover (era modern or dual)",
        "mcp_confirmed",
        "era",
        ("modern", "dual"),
    ),
}


@cache
def published_figures() -> dict[str, Any]:
    """The reference data file (studies and figures), parsed once."""
    text = (
        resources.files("census.report")
        .joinpath("data", "published_figures.json")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def _figure(metric: str, label: str, num: int, den: int, den_label: str) -> Figure:
    pct = percent(num, den)
    return Figure(metric, label, num, den, den_label, pct, None, *share_interval(num, den))


def _published(item: dict[str, Any], study: dict[str, Any]) -> Figure:
    num, den = item["numerator"], int(item["denominator"])
    low, high = share_interval(int(num), den) if num is not None else (None, None)
    return Figure(
        item["key"],
        study["name"],
        num,
        den,
        item["denominator_label"],
        float(item["percent"]),
        None,
        low,
        high,
    )


def _census_figure(metric: str, headline: dict[str, Figure], groups: list[queries.Group]) -> Figure:
    if metric in headline:
        return headline[metric]
    label, population, column, values = _EXTRA_METRICS[metric]
    return queries.share_of(groups, metric, label, population, column, values)


def compare(
    headline: Iterable[Figure], groups: list[queries.Group], counts: StudyCounts
) -> tuple[Comparison, ...]:
    """Every published figure beside census's two readings of the run."""
    data = published_figures()
    by_metric = {f.metric: f for f in headline}
    readings = _readings(counts)
    out = []
    for item in data["figures"]:
        study = data["studies"][item["study"]]
        census = _census_figure(item["census_metric"], by_metric, groups)
        reading = readings.get(item["reading"])
        as_study = (
            None
            if reading is None
            else _figure(item["reading"], item["figure"], reading[0], reading[1], reading[2])
        )
        out.append(
            Comparison(
                key=item["key"],
                figure=item["figure"],
                study=study["name"],
                source=study["url"],
                published=_published(item, study),
                study_definition=item["study_definition"],
                census_definition=census.label,
                as_study=as_study,
                as_census=census,
                reason=item["reason"],
            )
        )
    return tuple(out)
