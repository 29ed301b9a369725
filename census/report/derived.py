"""Export tables derived in Python from stored rows by the rules of :mod:`census.findings`:
``checklist`` (the seed article's checklist per observation) and ``tiers`` (maintenance tier and
impersonation per registry listing).  The SQL of each is in :mod:`census.report.schema`; these
functions turn one batch of its rows into the exported columns, so the rules have one definition.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from census.findings import (
    CHECKLIST_COLUMNS,
    TIER_COLUMNS,
    checklist,
    impersonation,
    maintenance_tier,
    server_meta_from_registry,
)
from census.records import Observation
from census.vocabulary import AuthClass, CorsClass, RateLimitClass, Status, Tls, Transport

__all__ = ["CHECKLIST_EXPORT", "TIERS_EXPORT", "checklist_frame", "tiers_frame"]

#: Columns of ``census export checklist``.
CHECKLIST_EXPORT = ("run_id", "url", *CHECKLIST_COLUMNS)
#: Columns of ``census export tiers``.
TIERS_EXPORT = ("source", "url", "registry_name", *TIER_COLUMNS, "impersonation_brand")


def _value(value: Any) -> Any:
    return None if value is None or value is pd.NA or value != value else value  # NaN → None


def _enum(kind: Any, value: Any) -> Any:
    value = _value(value)
    return kind(value) if value is not None and value in {v.value for v in kind} else None


def _observation(row: dict[str, Any]) -> Observation:
    findings = _value(row.get("findings"))
    tools = _value(row.get("tool_count"))
    return Observation(
        url=str(row["url"]),
        host="",
        registrable_domain=None,
        probed_at=datetime.min.replace(tzinfo=UTC),
        status=Status(str(row["status"])),
        transport=_enum(Transport, row.get("transport")),
        auth_class=_enum(AuthClass, row.get("auth_class")),
        tool_count=None if tools is None else int(tools),
        cors_class=_enum(CorsClass, row.get("cors_class")),
        rate_limit_class=_enum(RateLimitClass, row.get("rate_limit_class")),
        tls=_enum(Tls, row.get("tls")),
        origin_validated=_value(row.get("origin_validated")),
        oauth_pkce_s256=_value(row.get("oauth_pkce_s256")),
        findings=tuple(str(findings).split(";")) if findings else (),
    )


def checklist_frame(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per observation: its checklist columns (``now`` is unused: checks are timeless)."""
    rows = []
    for row in df.to_dict("records"):
        rows.append(
            {"run_id": row["run_id"], "url": row["url"], **checklist(_observation(row)).as_row()}
        )
    return pd.DataFrame.from_records(rows, columns=list(CHECKLIST_EXPORT))


def tiers_frame(df: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per registry listing: the tier of its server as of ``now`` and impersonation."""
    rows = []
    for row in df.to_dict("records"):
        try:
            raw = json.loads(row["raw"]) if row["raw"] else {}
        except ValueError:
            raw = {}
        meta = server_meta_from_registry(raw if isinstance(raw, dict) else {})
        claim = impersonation(meta)
        rows.append(
            {
                "source": row["source"],
                "url": row["url"],
                "registry_name": meta.name or None,
                **maintenance_tier(meta, now=now).as_row(),
                "impersonation_brand": claim.brand if claim else None,
            }
        )
    return pd.DataFrame.from_records(rows, columns=list(TIERS_EXPORT))
