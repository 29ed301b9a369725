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
    "AuthClass",
    "CorsClass",
    "Era",
    "FailureReason",
    "Finding",
    "RateLimitClass",
    "Session",
    "Status",
    "Tls",
    "Transport",
]


class Status(StrEnum):
    """What the census could establish about an endpoint in one run."""

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
