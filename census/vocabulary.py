"""The census vocabulary: the one definition of every closed set of values the census reports.

The database CHECK constraints (see ``migrations/``), the exports, the simulated internet's
ground-truth manifest and the README's vocabulary section are all derived from or checked against
this module (``tests/test_vocabulary.py``).  Adding a value is fine; renaming or removing one is a
breaking change for published data.  The contract is ``shared/docs/vocabulary.md``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "CLOSED_COLUMNS",
    "COLUMNS",
    "CONFIRMABLE_STATUSES",
    "TRANSIENT_REASONS",
    "VERDICT_RULE",
    "AuthClass",
    "CorsClass",
    "Era",
    "FailureReason",
    "Finding",
    "RateLimitClass",
    "RunStatus",
    "Session",
    "ShardState",
    "Status",
    "Tls",
    "Transport",
    "confirmable_sql",
    "is_confirmable",
]


class Status(StrEnum):
    """What the census could establish about an endpoint in one run.

    ``skipped`` covers every endpoint census did not (or could not) probe on its own account:
    policy (``private_address``, ``opted_out``, ``invalid_url``) and ``census_error`` — census's
    own code failed while probing, classifying or storing this endpoint.  Such an endpoint is
    still observed exactly once, so nothing is said about it and no run is lost to it.

    Hostile answers (issue 12; census.classify.status): ``healthy`` needs every advertised
    listing complete within the target deadline (cut by it: ``degraded``/``timeout``), within
    the item cap counted inside one page too (``degraded``/``list_failed``), and a
    ``protocolVersion`` census can echo (CR/LF etc.: ``degraded``/``protocol_error``, stored
    escaped).  Only an answer carrying the request's JSON-RPC id counts.  An HTTP+SSE
    ``endpoint`` event is an MCP signal: one that is no URL, or an unreadable reply, is
    ``degraded``/``protocol_error`` with an empty era.  An unparsable ``Retry-After`` is never
    waited on: the answer is classified by its status (a 503: ``http_error``/``http_5xx``).
    """

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    AUTH_REQUIRED = "auth_required"
    NOT_MCP = "not_mcp"
    HTTP_ERROR = "http_error"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"


class FailureReason(StrEnum):
    """The precise reason behind a non-healthy status (empty when healthy)."""

    DNS_ERROR = "dns_error"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    CONNECTION_RESET = "connection_reset"
    BODY_TOO_LARGE = "body_too_large"
    HTTP_5XX = "http_5xx"
    HTTP_429 = "http_429"
    HTTP_404 = "http_404"
    HTTP_4XX = "http_4xx"
    NOT_JSON = "not_json"
    NOT_JSONRPC = "not_jsonrpc"
    PROTOCOL_ERROR = "protocol_error"
    LIST_FAILED = "list_failed"
    REDIRECT_REFUSED = "redirect_refused"
    PRIVATE_ADDRESS = "private_address"
    OPTED_OUT = "opted_out"
    INVALID_URL = "invalid_url"
    #: Census's own failure (a bug, or a value the database refused), never the remote side's:
    #: status ``skipped``; the evidence notes name the stage and the exception type only.
    CENSUS_ERROR = "census_error"


class Era(StrEnum):
    """Which generation of the MCP HTTP transport the endpoint speaks."""

    MODERN = "modern"
    HANDSHAKE = "handshake"
    DUAL = "dual"
    LEGACY_SSE = "legacy_sse"


class Transport(StrEnum):
    STREAMABLE_HTTP = "streamable_http"
    SSE = "sse"


class Session(StrEnum):
    STATEFUL = "stateful"
    STATELESS = "stateless"


class AuthClass(StrEnum):
    NONE = "none"
    OAUTH = "oauth"
    OAUTH_PARTIAL = "oauth_partial"
    BEARER = "bearer"
    API_KEY = "api_key"
    OTHER_AUTH = "other_auth"


class CorsClass(StrEnum):
    NONE = "none"
    RESTRICTED = "restricted"
    WILDCARD = "wildcard"
    REFLECT = "reflect"
    REFLECT_CREDENTIALS = "reflect_credentials"


class RateLimitClass(StrEnum):
    ENFORCED = "enforced"
    ADVERTISED = "advertised"
    NONE_OBSERVED = "none_observed"


class Tls(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NONE = "none"


class Finding(StrEnum):
    """Finding codes, ``;``-joined in the ``findings`` column.

    The vocabulary lists examples ("poisoning patterns, secret in URL, plain http, more than 30
    tools, origin not validated, …"); the security-findings work adds the poisoning rules.
    """

    SECRET_IN_URL = "secret_in_url"
    PLAIN_HTTP = "plain_http"
    MANY_TOOLS = "many_tools"
    ORIGIN_NOT_VALIDATED = "origin_not_validated"
    CORS_OPEN = "cors_open"
    TLS_INVALID = "tls_invalid"
    TOOL_LEAK = "tool_leak"
    HIDDEN_INSTRUCTIONS = "hidden_instructions"
    INVISIBLE_UNICODE = "invisible_unicode"
    ANSI_ESCAPE = "ansi_escape"
    ENCODED_BLOB = "encoded_blob"
    TOOL_SHADOWING = "tool_shadowing"
    EXFILTRATION_HINT = "exfiltration_hint"
    OVERSIZED_DEFINITION = "oversized_definition"
    RUG_PULL = "rug_pull"
    # Run-to-run changes of one endpoint (census.findings.rugpull) and registry identity
    # (census.findings.tier).
    SERVER_IDENTITY_CHANGED = "server_identity_changed"
    PROTOCOL_DOWNGRADE = "protocol_downgrade"
    AUTH_DOWNGRADE = "auth_downgrade"
    TLS_DOWNGRADE = "tls_downgrade"
    IMPERSONATION = "impersonation"


class RunStatus(StrEnum):
    """The state of a crawl run (``crawl_runs.status``)."""

    PENDING = "pending"  # created, no shard picked up yet
    RUNNING = "running"  # shards queued or being worked
    COMPLETE = "complete"  # every shard done: every endpoint observed exactly once
    STOPPED = "stopped"  # stopped on request (Ctrl-C, SIGTERM); `census crawl --resume` finishes it
    #: a shard failed after its retries (the database gone, a worker crashing): observations
    #: stored so far are kept, `census crawl --resume RUN` finishes it
    FAILED = "failed"
    #: every shard done; the endpoints whose first verdict is confirmable (:func:`is_confirmable`)
    #: are being probed a second time (census.crawl.confirm); then ``complete``
    CONFIRMING = "confirming"


class ShardState(StrEnum):
    """The state of one shard of a run (``crawl_shards.state``)."""

    QUEUED = "queued"  # waiting for, or being worked by, a worker
    DONE = "done"  # every endpoint of the shard observed
    FAILED = "failed"  # failed after its retries; `census crawl --resume` queues it again


#: First verdicts that may be transient — a server restarting, a network blip — and are therefore
#: probed a second time later in the same run before they are published as failures: every
#: ``unreachable`` and ``http_error``, and ``degraded`` when a later step failed for a network or
#: overload reason (:data:`TRANSIENT_REASONS`).  ``not_mcp``, ``auth_required``, ``skipped`` and a
#: ``degraded`` for a protocol reason say something about the server, not the moment: probed once.
CONFIRMABLE_STATUSES: Final[frozenset[str]] = frozenset({"unreachable", "http_error"})
TRANSIENT_REASONS: Final[frozenset[str]] = frozenset(
    {
        "dns_error",
        "connect_refused",
        "connect_timeout",
        "timeout",
        "connection_reset",
        "http_5xx",
        "http_429",
    }
)

#: Which attempt stands (``attempts``, ``confirmed``, ``flapping`` columns).
VERDICT_RULE: Final = (
    "An endpoint whose first verdict is confirmable (unreachable; http_error; degraded with a"
    " network, 5xx or 429 reason) is probed a second time later in the same run, at least the"
    " confirmation delay (default 10 minutes) after its first probe and after the run's first"
    " pass, under the same per-host limits. The second attempt's observation stands (every"
    " column; the first attempt's evidence is kept beside it). confirmed = both attempts have"
    " the same status (the reasons may differ: a refused connection then a timeout is still"
    " unreachable); flapping = their statuses differ. An endpoint probed once has attempts 1"
    " and empty confirmed/flapping. The failure rate counts a failure only when it is not"
    " flapping."
)


def is_confirmable(status: str | None, failure_reason: str | None) -> bool:
    """Whether a first verdict is probed again (see :data:`CONFIRMABLE_STATUSES`)."""
    if status in CONFIRMABLE_STATUSES:
        return True
    return status == "degraded" and failure_reason in TRANSIENT_REASONS


def confirmable_sql(status: str = "status", reason: str = "failure_reason") -> str:
    """:func:`is_confirmable` as an SQL condition over the named columns (constants only)."""
    statuses = ", ".join(f"'{v}'" for v in sorted(CONFIRMABLE_STATUSES))
    reasons = ", ".join(f"'{v}'" for v in sorted(TRANSIENT_REASONS))
    return f"({status} IN ({statuses}) OR ({status} = 'degraded' AND {reason} IN ({reasons})))"


#: Every observation column, in export order, as named by the vocabulary contract.
COLUMNS: Final[tuple[str, ...]] = (
    "run_id",
    "url",
    "host",
    "registrable_domain",
    "sources",
    "probed_at",
    "status",
    "failure_reason",
    "era",
    "transport",
    "protocol_version",
    "session",
    "server_name",
    "server_version",
    "auth_class",
    "oauth_issuer",
    "oauth_dcr",
    "oauth_cimd",
    "oauth_pkce_s256",
    "cors_class",
    "origin_validated",
    "rate_limit_class",
    "tool_count",
    "resource_count",
    "prompt_count",
    "tool_tokens",
    "tls",
    "tls_days_left",
    "latency_ms",
    "findings",
    # Confirmation within a run (VERDICT_RULE): how many probes, and whether they agreed.
    "attempts",
    "confirmed",
    "flapping",
)

#: Columns whose values come from a closed set, mapped to that set.
CLOSED_COLUMNS: Final[dict[str, type[StrEnum]]] = {
    "status": Status,
    "failure_reason": FailureReason,
    "era": Era,
    "transport": Transport,
    "session": Session,
    "auth_class": AuthClass,
    "cors_class": CorsClass,
    "rate_limit_class": RateLimitClass,
    "tls": Tls,
}
