"""Frozen records that cross stage boundaries (discovery → store → probe → classify → store).

They import nothing of ours but the vocabulary, so every stage can depend on them.  Field names
follow ``shared/docs/vocabulary.md``: an :class:`Observation` holds exactly the vocabulary's
columns (plus the methodology version and the tool definitions it was computed from), ``None``
meaning "not determinable" (an empty cell in exports).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from census.vocabulary import (
    AuthClass,
    CorsClass,
    Era,
    FailureReason,
    RateLimitClass,
    Session,
    Status,
    Tls,
    Transport,
)

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_URL_BYTES",
    "Candidate",
    "Evidence",
    "Exchange",
    "Observation",
    "Target",
    "ToolDefinition",
]

#: Containers nested deeper than this in a remote party's JSON (a tool schema, a registry entry)
#: are kept as the JSON text of the subtree: by the canonical form that is hashed
#: (``census.classify.inventory``) and by the storage sanitiser (``census.store.sanitize``), so
#: neither depends on Python's recursion limit or PostgreSQL's stack depth.
MAX_JSON_DEPTH = 64
#: The longest endpoint URL census accepts, in UTF-8 bytes: below PostgreSQL's b-tree entry
#: limit for the unique index on endpoint URLs, and past what browsers, CDNs and most servers
#: accept in a request line.  Discovery rejects longer ones (``url_too_long``); ``census probe``
#: refuses them as bad input.
MAX_URL_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Candidate:
    """One endpoint URL as a discovery source listed it, before storage.

    ``url`` is already canonical (see ``census.discovery.normalize``); ``raw`` is the source's
    entry, kept verbatim (secrets redacted) as provenance.
    """

    source: str
    url: str
    raw: dict[str, Any] = field(default_factory=dict)
    server_name: str | None = None
    server_version: str | None = None
    repository: str | None = None
    transport_hint: str | None = None
    rejected: str | None = None  # a FailureReason or DiscoveryReason value: URL refused
    # Added by discovery (normalize): identity facts derived from the canonical URL.
    host: str = ""
    registrable_domain: str | None = None
    secret_in_url: bool = False  # a secret was redacted from the URL (query or userinfo)
    platform_host: bool = False  # the host is a known multi-tenant platform


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to probe in one run."""

    endpoint_id: int
    url: str
    host: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and what came back: the raw evidence a classifier reads.

    ``error`` is a FailureReason value when no (complete) HTTP answer arrived.
    """

    step: str
    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # decoded, capped text
    body_truncated: bool = False
    error: str | None = None
    error_detail: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    attempts: int = 1
    #: Answers of earlier attempts that were retried (429/502/503 honouring Retry-After):
    #: ``{"status": int, "headers": {...}}`` each, so no 429 or limit header is lost.
    retried: tuple[dict[str, Any], ...] = ()
    #: Set only on stored evidence whose ``body`` was cut to a prefix for storage: what the
    #: classifiers read of the whole body (``census.classify.wire.reduce_answer``).
    parsed: dict[str, Any] | None = None
    #: The URL named credentials (``user:password@``) that census removed before sending: it
    #: never sends them (``url`` above is what was requested, without them).
    userinfo_stripped: bool = False


_EXCHANGE_FIELDS = tuple(f.name for f in fields(Exchange))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything one probe of one endpoint saw, sufficient to re-run classification."""

    url: str
    started_at: datetime
    exchanges: tuple[Exchange, ...] = ()
    tls: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def as_document(self) -> dict[str, Any]:
        """The evidence as a JSON-ready dict (what :meth:`to_json` writes)."""
        return {
            "url": self.url,
            "started_at": self.started_at.isoformat(),
            # Shallow (not asdict): every field is already JSON-ready, and this runs per probe.
            "exchanges": [
                {name: getattr(x, name) for name in _EXCHANGE_FIELDS} for x in self.exchanges
            ],
            "tls": self.tls,
            "notes": self.notes,
        }

    def to_json(self) -> str:
        """Stable JSON text (:meth:`from_json` restores it exactly); the crawl stores it through
        ``census.store.sanitize``, which makes every value storable."""
        return json.dumps(self.as_document(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Evidence:
        data = json.loads(text)
        exchanges = []
        for item in data.get("exchanges", []):
            item["retried"] = tuple(item.get("retried", ()))
            exchanges.append(Exchange(**item))
        return cls(
            url=data["url"],
            started_at=datetime.fromisoformat(data["started_at"]),
            exchanges=tuple(exchanges),
            tls=data.get("tls", {}),
            notes=data.get("notes", {}),
        )


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A tool as listed by a server, content-addressed by the hash of its canonical JSON."""

    name: str
    description: str | None
    input_schema: Any
    canonical_json: str
    sha256: str
    tokens: int
    #: The definition was too large to count whole: ``tokens`` is scaled from a bounded prefix.
    tokens_estimated: bool = False


@dataclass(frozen=True, slots=True)
class Observation:
    """One endpoint in one run, in the census vocabulary."""

    url: str
    host: str
    registrable_domain: str | None
    probed_at: datetime
    status: Status
    failure_reason: FailureReason | None = None
    era: Era | None = None
    transport: Transport | None = None
    protocol_version: str | None = None
    session: Session | None = None
    server_name: str | None = None
    server_version: str | None = None
    auth_class: AuthClass | None = None
    oauth_issuer: str | None = None
    oauth_dcr: bool | None = None
    oauth_cimd: bool | None = None
    oauth_pkce_s256: bool | None = None
    cors_class: CorsClass | None = None
    origin_validated: bool | None = None
    rate_limit_class: RateLimitClass | None = None
    tool_count: int | None = None
    resource_count: int | None = None
    prompt_count: int | None = None
    tool_tokens: int | None = None
    tls: Tls | None = None
    tls_days_left: int | None = None
    latency_ms: float | None = None
    findings: tuple[str, ...] = ()
    #: Confirmation within a run (census.vocabulary.VERDICT_RULE): a probe is one attempt; the
    #: crawl sets 2 and confirmed/flapping when it probed the endpoint again.
    attempts: int = 1
    confirmed: bool | None = None
    flapping: bool | None = None
    methodology_version: str = ""
    tools: tuple[ToolDefinition, ...] = ()
