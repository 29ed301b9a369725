"""The exported tables: their columns (the vocabulary's names, in its order), their SQL and the
pandas dtype of each column — one definition shared by exports, :mod:`census.report.frames` and
the readers, so a CSV or Parquet file reads back with the same dtypes as a live query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from census.vocabulary import CLOSED_COLUMNS, COLUMNS

__all__ = ["TABLES", "ExportTable", "kind_of"]

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
