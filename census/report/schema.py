"""The exported tables: their columns (the vocabulary's names, in its order), their SQL and the
pandas dtype of each column — one definition shared by exports, :mod:`census.report.frames` and
the readers, so a CSV or Parquet file reads back with the same dtypes as a live query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from census.vocabulary import CLOSED_COLUMNS, COLUMNS

__all__ = [
    "DESCRIPTIONS",
    "SIMULATED_SQL",
    "TABLES",
    "VALUE_DESCRIPTIONS",
    "ExportTable",
    "is_simulated",
    "kind_of",
]

#: A run observed a *simulated* internet when its configuration says so: ``"simulated": true``
#: (written by the crawl since issue 13) or, for runs created before that, a named testbed
#: folder (``census crawl --testbed DIR`` and ``census demo`` record it).  The SQL form reads
#: ``crawl_runs r``.
SIMULATED_SQL: Final = (
    "coalesce(CAST(r.config->>'simulated' AS boolean), false)"
    " OR coalesce(r.config->>'testbed', '') <> ''"
)


def is_simulated(config: Mapping[str, Any] | None) -> bool:
    """:data:`SIMULATED_SQL` over a run configuration already read."""
    if not config:
        return False
    return bool(config.get("simulated")) or bool(config.get("testbed"))


#: Column kinds → how they are typed (pandas) and written (CSV/JSONL).
_INT = {
    "run_id",
    "tool_count",
    "resource_count",
    "prompt_count",
    "tool_tokens",
    "tls_days_left",
    "position",
    "tokens",
    "endpoint_total",
    "id",
    "checklist_passed",
    "checklist_scored",
    "days_since_update",
    "attempts",
}
_BOOL = {
    "oauth_dcr",
    "oauth_cimd",
    "oauth_pkce_s256",
    "origin_validated",
    "platform_host",
    "secret_in_url",
    "still_listed",
    "hosted_by_publisher",
    "repository_listed",
    "confirmed",
    "flapping",
}
_TIME = {"probed_at", "first_seen", "last_seen", "created_at", "started_at", "finished_at"}
_FLOAT = {"latency_ms", "checklist_score"}


def kind_of(column: str) -> str:
    """``int``, ``bool``, ``datetime``, ``float``, ``category`` (closed vocabulary) or ``str``."""
    if column in CLOSED_COLUMNS:
        return "category"
    if column in _INT:
        return "int"
    if column in _BOOL:
        return "bool"
    if column in _TIME:
        return "datetime"
    if column in _FLOAT:
        return "float"
    return "str"


@dataclass(frozen=True, slots=True)
class ExportTable:
    """One exportable table: its columns and the SQL that yields them (param ``run`` if scoped).

    A *derived* table names ``derive`` (``module:function``, loaded lazily so this module stays
    free of pandas): the SQL yields ``query_columns``, and the function turns each batch into
    ``columns`` by the rules of census.findings (``function(frame, now)``; ``now`` = the run's
    creation time, or the present for an export of all runs).
    """

    name: str
    columns: tuple[str, ...]
    sql: str
    run_scoped: bool
    derive: str | None = None
    query_columns: tuple[str, ...] = ()


_SOURCES_OF = """
LEFT JOIN (
  SELECT l.endpoint_id, string_agg(s.name, ';' ORDER BY s.name) AS sources
  FROM listings l JOIN sources s ON s.id = l.source_id GROUP BY l.endpoint_id
) src ON src.endpoint_id = e.id
"""

_OBS_SELECT = {
    "run_id": "o.run_id",
    "url": "e.url",
    "host": "e.host",
    "registrable_domain": "e.registrable_domain",
    "sources": "src.sources",
    "findings": "NULLIF(array_to_string(o.findings, ';'), '')",
}

_OBSERVATIONS = ExportTable(
    "observations",
    COLUMNS,
    "SELECT "
    + ", ".join(f"{_OBS_SELECT.get(c, 'o.' + c)} AS {c}" for c in COLUMNS)
    + " FROM observations o JOIN endpoints e ON e.id = o.endpoint_id"
    + _SOURCES_OF
    + " WHERE o.run_id = :run ORDER BY o.endpoint_id",
    True,
)

_ENDPOINT_COLUMNS = (
    "url",
    "host",
    "registrable_domain",
    "platform_host",
    "secret_in_url",
    "sources",
    "first_seen",
    "last_seen",
    "still_listed",
)

_ENDPOINTS = ExportTable(
    "endpoints",
    _ENDPOINT_COLUMNS,
    "SELECT "
    + ", ".join("src.sources" if c == "sources" else f"e.{c}" for c in _ENDPOINT_COLUMNS)
    + " FROM endpoints e"
    + _SOURCES_OF
    + " WHERE (CAST(:run AS bigint) IS NULL OR EXISTS"
    " (SELECT 1 FROM observations o WHERE o.run_id = :run AND o.endpoint_id = e.id))"
    " ORDER BY e.id",
    False,
)

_TOOLS = ExportTable(
    "tools",
    (
        "run_id",
        "url",
        "position",
        "sha256",
        "name",
        "description",
        "input_schema",
        "tokens",
        "tokenizer",
    ),
    "SELECT ot.run_id, e.url, ot.position, t.sha256, t.name, t.description,"
    " CAST(t.input_schema AS text) AS input_schema, t.tokens, t.tokenizer"
    " FROM observation_tools ot JOIN tool_definitions t ON t.sha256 = ot.tool_sha256"
    " JOIN endpoints e ON e.id = ot.endpoint_id"
    " WHERE ot.run_id = :run ORDER BY ot.endpoint_id, ot.position",
    True,
)

_LISTINGS = ExportTable(
    "listings",
    (
        "source",
        "url",
        "server_name",
        "server_version",
        "repository",
        "transport_hint",
        "first_seen",
        "last_seen",
        "still_listed",
    ),
    "SELECT s.name AS source, e.url, l.server_name, l.server_version, l.repository,"
    " l.transport_hint, l.first_seen, l.last_seen, l.still_listed"
    " FROM listings l JOIN sources s ON s.id = l.source_id JOIN endpoints e ON e.id = l.endpoint_id"
    " WHERE (CAST(:run AS bigint) IS NULL OR EXISTS"
    " (SELECT 1 FROM observations o WHERE o.run_id = :run AND o.endpoint_id = e.id))"
    " ORDER BY s.name, e.id",
    False,
)

_CHECKLIST_INPUT = (
    "run_id",
    "url",
    "status",
    "transport",
    "auth_class",
    "tool_count",
    "cors_class",
    "rate_limit_class",
    "tls",
    "origin_validated",
    "oauth_pkce_s256",
    "findings",
)
_CHECK_NAMES = (
    "streamable_http",
    "auth_present",
    "tool_count_within_30",
    "cors_not_open",
    "rate_limiting",
    "tls_valid",
    "origin_validated",
    "oauth_metadata_complete",
    "no_secret_in_url",
)

# The checks of census.findings.CHECKS, spelled out so that `census --help` does not load the
# rule library (tests/report/test_security_tables.py keeps the two equal).
_CHECKLIST = ExportTable(
    "checklist",
    (
        "run_id",
        "url",
        *(f"check_{c}" for c in _CHECK_NAMES),
        "checklist_passed",
        "checklist_scored",
        "checklist_score",
    ),
    "SELECT "
    + ", ".join(_OBS_SELECT.get(c, "o." + c) + f" AS {c}" for c in _CHECKLIST_INPUT)
    + " FROM observations o JOIN endpoints e ON e.id = o.endpoint_id"
    + " WHERE o.run_id = :run ORDER BY o.endpoint_id",
    True,
    derive="census.report.derived:checklist_frame",
    query_columns=_CHECKLIST_INPUT,
)

_TIERS = ExportTable(
    "tiers",
    (
        "source",
        "url",
        "registry_name",
        "maintenance_tier",
        "tier_basis",
        "namespace_kind",
        "namespace_domain",
        "hosted_by_publisher",
        "repository_listed",
        "days_since_update",
        "impersonation_brand",
    ),
    "SELECT s.name AS source, e.url, CAST(l.raw AS text) AS raw"
    " FROM listings l JOIN sources s ON s.id = l.source_id JOIN endpoints e ON e.id = l.endpoint_id"
    " WHERE l.raw ? 'server'"
    " AND (CAST(:run AS bigint) IS NULL OR EXISTS"
    " (SELECT 1 FROM observations o WHERE o.run_id = :run AND o.endpoint_id = e.id))"
    " ORDER BY s.name, e.id",
    False,
    derive="census.report.derived:tiers_frame",
    query_columns=("source", "url", "raw"),
)

#: Every exportable table by name.
TABLES: Final[dict[str, ExportTable]] = {
    t.name: t for t in (_OBSERVATIONS, _ENDPOINTS, _TOOLS, _LISTINGS, _CHECKLIST, _TIERS)
}


# --- descriptions (the release's datapackage.json and METHODOLOGY.md) ------------------------

#: What every exported column means, from the vocabulary contract (shared/docs/vocabulary.md);
#: tests/release checks that every column of every released table has one.
DESCRIPTIONS: Final[dict[str, str]] = {
    "run_id": "The crawl run that made the observation.",
    "url": "Canonical endpoint URL: scheme and host lower-cased, default port dropped, secrets"
    " in the query string replaced by REDACTED.",
    "host": "The URL's host.",
    "registrable_domain": "The host's registrable domain (public suffix list).",
    "sources": "';'-joined names of the discovery sources that listed the endpoint.",
    "probed_at": "UTC time of the probe.",
    "status": "What census could establish about the endpoint in this run (see the status values).",
    "failure_reason": "The precise reason behind a non-healthy status; empty when healthy.",
    "era": "Which generation of the MCP HTTP transport the endpoint speaks; empty when MCP was"
    " not confirmed.",
    "transport": "The MCP transport that answered.",
    "protocol_version": "Newest protocol revision the server agreed to speak (e.g. 2025-11-25).",
    "session": "stateful when an Mcp-Session-Id was issued by a successful initialize,"
    " stateless otherwise; empty in the modern era or when unknown.",
    "server_name": "Server name from serverInfo (handshake) or the discover result.",
    "server_version": "Server version from serverInfo (handshake) or the discover result.",
    "auth_class": "How the endpoint asks for authorization (see the auth_class values); empty"
    " when MCP presence could not be tested.",
    "oauth_issuer": "Issuer of the OAuth authorization server metadata.",
    "oauth_dcr": "The authorization server advertises a dynamic client registration endpoint.",
    "oauth_cimd": "The authorization server supports client ID metadata documents.",
    "oauth_pkce_s256": "The authorization server advertises PKCE with S256.",
    "cors_class": "What a page at a foreign origin is allowed, from a preflight with a random"
    " foreign Origin.",
    "origin_validated": "A request carrying a foreign Origin is refused (403), as the MCP"
    " specification requires against DNS rebinding.",
    "rate_limit_class": "Rate limiting seen within the polite probe budget; none_observed is"
    " never 'no limit'.",
    "tool_count": "Tools listed (all pages, within a page cap); empty if not listed.",
    "resource_count": "Resources listed; empty if not listed.",
    "prompt_count": "Prompts listed; empty if not listed.",
    "tool_tokens": "Token count of the serialized tool definitions (offline tokenizer named in"
    " the tools table).",
    "tls": "Transport security of the endpoint.",
    "tls_days_left": "Days until the endpoint's certificate expires.",
    "latency_ms": "Milliseconds from the request to the first MCP answer.",
    "findings": "';'-joined finding codes (census/findings/FINDINGS.md).",
    "attempts": "How many times the endpoint was probed in this run (a transient failure is"
    " probed again later in the run).",
    "confirmed": "The attempts agree (a failure seen twice is a confirmed failure).",
    "flapping": "The attempts disagree (e.g. down, then up).",
    "platform_host": "The host serves endpoints of many publishers (a hosting platform).",
    "secret_in_url": "A registry listed the URL with a credential (the secret itself is never"
    " stored).",
    "first_seen": "When a discovery source first listed it.",
    "last_seen": "When a discovery source last listed it.",
    "still_listed": "A source still listed it at the latest discovery.",
    "position": "The tool's position in the endpoint's tools/list answer (0-based).",
    "sha256": "SHA-256 of the tool definition's canonical JSON (content address).",
    "name": "The tool's name.",
    "description": "The tool's description, as served.",
    "input_schema": "The tool's input JSON Schema, as JSON text.",
    "tokens": "Token count of the tool definition's canonical JSON.",
    "tokenizer": "The offline tokenizer the token counts were made with.",
    "source": "The discovery source (registry, directory, list) of the listing.",
    "repository": "Source repository the listing names.",
    "transport_hint": "Transport the listing names.",
}

#: The meaning of every value of the closed vocabularies (census.vocabulary), by column.
VALUE_DESCRIPTIONS: Final[dict[str, dict[str, str]]] = {
    "status": {
        "healthy": "MCP confirmed in some era and every listing the server advertises succeeded",
        "degraded": "MCP confirmed, but a later step failed",
        "auth_required": "the MCP request was answered 401 or 403 (an authorization wall)",
        "not_mcp": "an HTTP server answered with no MCP signal",
        "http_error": "only 5xx or 429 answers, so MCP presence could not be tested",
        "unreachable": "no HTTP answer at all",
        "skipped": "not probed by policy (private address, opt-out, invalid URL) or census's"
        " own error",
    },
    "era": {
        "modern": "2026-07-28 server/discover only",
        "handshake": "initialize over Streamable HTTP only",
        "dual": "both server/discover and initialize",
        "legacy_sse": "2024-11-05 HTTP+SSE",
    },
    "transport": {"streamable_http": "Streamable HTTP", "sse": "HTTP+SSE (legacy)"},
    "session": {
        "stateful": "an Mcp-Session-Id was issued",
        "stateless": "no session id was issued",
    },
    "auth_class": {
        "none": "an MCP request without credentials succeeded",
        "oauth": "401 and a consistent RFC 9728 → RFC 8414/OIDC metadata chain",
        "oauth_partial": "OAuth evidence, broken chain",
        "bearer": "Bearer challenge, no OAuth metadata",
        "api_key": "the challenge or error names an API key",
        "other_auth": "anything else behind 401/403",
    },
    "cors_class": {
        "none": "no Access-Control-Allow-Origin for a foreign origin, or refused",
        "restricted": "allows only other origins",
        "wildcard": "Access-Control-Allow-Origin: *",
        "reflect": "echoes any origin",
        "reflect_credentials": "echoes any origin, with credentials allowed",
    },
    "rate_limit_class": {
        "enforced": "a 429 within the polite budget",
        "advertised": "rate-limit headers or Retry-After, no 429",
        "none_observed": "neither (never reported as 'no limit')",
    },
    "tls": {"valid": "valid certificate", "invalid": "invalid certificate", "none": "plain http"},
}
