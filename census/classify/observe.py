"""Evidence -> Observation, and the Observation as a row of vocabulary columns."""

from __future__ import annotations

from dataclasses import fields
from enum import StrEnum
from typing import Any

from yarl import URL

from census import METHODOLOGY_VERSION
from census.classify.auth import classify_auth
from census.classify.exposure import classify_cors, classify_origin, classify_rate_limit
from census.classify.findings import prober_findings
from census.classify.inventory import classify_inventory
from census.classify.protocol import classify_protocol
from census.classify.status import classify_status
from census.classify.transport_security import classify_tls
from census.records import Evidence, Observation
from census.vocabulary import COLUMNS, Status, Tls

__all__ = ["classify", "observation_row"]

#: Statuses where the endpoint answered HTTP at all (browser exposure is meaningful).
_ANSWERED = frozenset({Status.HEALTHY, Status.DEGRADED, Status.AUTH_REQUIRED})


def classify(evidence: Evidence) -> Observation:
    """One observation in the census vocabulary from stored evidence (pure)."""
    protocol = classify_protocol(evidence)
    status, reason = classify_status(evidence, protocol)
    confirmed = protocol.era is not None
    auth = classify_auth(evidence, confirmed) if status is not Status.SKIPPED else None
    inventory = classify_inventory(evidence, protocol.listing_era)
    tls, days_left = classify_tls(evidence)
    if tls is Tls.NONE and status in (Status.UNREACHABLE, Status.SKIPPED):
        tls = None  # plain http that never answered says nothing about transport security
    cors_class = classify_cors(evidence) if status in _ANSWERED else None
    origin_validated = classify_origin(evidence) if status in _ANSWERED else None
    rate_limit = classify_rate_limit(evidence) if status is not Status.SKIPPED else None
    latency = protocol.answer.timings_ms.get("first_byte") if protocol.answer else None
    try:
        host = (URL(evidence.url).host or "").lower()
    except ValueError:
        host = ""
    return Observation(
        url=evidence.url,
        host=host,
        registrable_domain=None,
        probed_at=evidence.started_at,
        status=status,
        failure_reason=reason,
        era=protocol.era,
        transport=protocol.transport,
        protocol_version=protocol.protocol_version,
        session=protocol.session,
        server_name=protocol.server_name,
        server_version=protocol.server_version,
        auth_class=auth.auth_class if auth else None,
        oauth_issuer=auth.oauth_issuer if auth else None,
        oauth_dcr=auth.oauth_dcr if auth else None,
        oauth_cimd=auth.oauth_cimd if auth else None,
        oauth_pkce_s256=auth.oauth_pkce_s256 if auth else None,
        cors_class=cors_class,
        origin_validated=origin_validated,
        rate_limit_class=rate_limit,
        tool_count=inventory.tool_count,
        resource_count=inventory.resource_count,
        prompt_count=inventory.prompt_count,
        tool_tokens=inventory.tool_tokens,
        tls=tls,
        tls_days_left=days_left,
        latency_ms=latency,
        findings=prober_findings(
            evidence.url,
            answered=status not in (Status.UNREACHABLE, Status.SKIPPED),
            tls=tls,
            tool_count=inventory.tool_count,
            tools=inventory.tools,
            cors_class=cors_class,
            origin_validated=origin_validated,
        ),
        methodology_version=METHODOLOGY_VERSION,
        tools=inventory.tools,
    )


def observation_row(observation: Observation, **identity: Any) -> dict[str, Any]:
    """The observation as {column: value} over census.vocabulary.COLUMNS (JSON-ready:
    enums as strings, empty as None, findings `;`-joined, timestamps ISO 8601)."""
    values = {f.name: getattr(observation, f.name) for f in fields(observation)}
    row: dict[str, Any] = {}
    for column in COLUMNS:
        value = identity.get(column, values.get(column))
        if column == "findings":
            value = ";".join(observation.findings) or None
        elif column == "probed_at":
            value = observation.probed_at.isoformat()
        elif isinstance(value, StrEnum):
            value = value.value
        row[column] = value
    return row
