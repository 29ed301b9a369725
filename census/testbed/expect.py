"""Ground truth: the manifest row a correct census must report for one endpoint.

The rules are the vocabulary's (``shared/docs/vocabulary.md``) plus the testbed's own decisions for
cases it does not settle, written down in ``census/testbed/RULES.md``.  Empty string = "not
determinable"; ``*`` = not checked (depends on the prober's own caps).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from census.testbed import hostile
from census.testbed.flapping import FLAPS, expected_attempts
from census.testbed.model import MODERN_VERSION, Endpoint, Profile
from census.testbed.plants import PLANTS, RUG_PULLS, rug_pulled_tools
from census.vocabulary import COLUMNS

__all__ = [
    "CHANGE_COLUMNS",
    "MANIFEST_COLUMNS",
    "PLANTED_COLUMNS",
    "expected_change",
    "expected_row",
]

#: Vocabulary columns the manifest does not state: identity (known from the URL and its
#: listings) and measurements that depend on the moment (clock, latency, token counts).
UNPLANTED_COLUMNS = frozenset(
    {"run_id", "host", "registrable_domain", "sources", "probed_at", "tool_tokens",
     "tls_days_left", "latency_ms"}
)  # fmt: skip
#: The columns a correct census must reproduce exactly, in vocabulary order.
PLANTED_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in UNPLANTED_COLUMNS and c != "url"
)
#: The manifest's columns: the URL, the planted vocabulary columns, then the profile's name.
MANIFEST_COLUMNS: tuple[str, ...] = ("url", *PLANTED_COLUMNS, "profile")

_HTTP_ONLY = {
    # behaviour: (status, failure_reason)
    "http_5xx": ("http_error", "http_5xx"),
    "always_429": ("http_error", "http_429"),
    "http_404": ("not_mcp", "http_404"),
    "html_login": ("not_mcp", "not_json"),
    "json_api": ("not_mcp", "not_jsonrpc"),
    "no_sse_405": ("not_mcp", "http_4xx"),
    "host_421": ("not_mcp", "http_4xx"),
    "redirect_private": ("not_mcp", "private_address"),
    "redirect_cross_origin": ("not_mcp", "redirect_refused"),
    "redirect_loop": ("not_mcp", "redirect_refused"),
    "gzip_bomb": ("not_mcp", "body_too_large"),
    "endless_body": ("not_mcp", "body_too_large"),
    "endless_sse": ("not_mcp", "timeout"),
    "slow_drip": ("not_mcp", "timeout"),
    "huge_headers": ("not_mcp", "protocol_error"),
    # Issue 12 (RULES.md "Issue 12: hostile answers"):
    "retry_after_503_nonascii": ("http_error", "http_5xx"),
    "retry_after_503_digits": ("http_error", "http_5xx"),
    "retry_after_429_nonascii": ("http_error", "http_429"),
}
#: rate_limit_class of the HTTP-only rows that is not none_observed.
_HTTP_ONLY_RATE = {
    "always_429": "enforced",
    "retry_after_429_nonascii": "enforced",
    # The vocabulary: Retry-After present, no 429 seen → advertised, whatever the status.
    "retry_after_503_nonascii": "advertised",
    "retry_after_503_digits": "advertised",
}
#: Working servers whose MCP answers are unusable before MCP is confirmed (issue 12): no
#: protocol facts; the reason is the initialize answer's (RULES.md).
_NOT_CONFIRMED = {
    # An HTTP+SSE endpoint event is an MCP signal even when it names no usable URL: degraded,
    # with no era (the session never started), like a modern error without a result.
    "legacy_endpoint_invalid_url": ("degraded", "protocol_error"),
    "legacy_endpoint_bad_port": ("degraded", "protocol_error"),
    "id_mismatch_all": ("not_mcp", "protocol_error"),
}
_NO_ANSWER = {
    "refused": "connect_refused",
    "blackhole": "timeout",
    "connect_timeout": "connect_timeout",
    "reset": "connection_reset",
    "dns": "dns_error",
    "tls_handshake_fail": "tls_error",
    "tls_invalid": "tls_error",
    # Down on every visit: the connection closes without an answer (census.testbed.flapping).
    "flap_down_down": "connection_reset",
}
_SKIPPED = {"private_address", "opted_out", "invalid_url"}
_DEGRADED = {
    "list_error": "list_failed",
    "session_broken": "list_failed",
    "huge_json": "body_too_large",
    "deep_json": "protocol_error",
    "invalid_utf8": "protocol_error",
    "endless_cursor": "list_failed",
    "cursor_loop": "list_failed",
    # Issue 12:
    "schema_deep_100k": "protocol_error",
    "legacy_deep_json": "protocol_error",
    "id_mismatch_list": "protocol_error",
    "huge_page": "list_failed",
    "stall_listing": "timeout",
    "protocol_version_crlf": "protocol_error",
}
_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "sig")


def _tls(p: Profile) -> str:
    return "none" if p.tls == "plain" else "valid"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _rate(p: Profile) -> str:
    if p.rate in ("enforced", "always_429"):
        return "enforced"
    if p.rate == "none":
        return "none_observed"
    return "advertised"


def _cors(p: Profile) -> str:
    return "none" if p.cors in ("none", "refused") else p.cors


def _secret_in_url(url: str) -> bool:
    query = urlsplit(url).query.lower()
    return any(word in part.split("=")[0] for part in query.split("&") for word in _SECRET_WORDS)


def _auth_class(p: Profile) -> str:
    if p.auth == "none":
        return "none"
    if p.auth in ("oauth", "oauth_wellknown"):
        return "oauth"
    if p.auth.startswith("oauth_"):
        return "oauth_partial"
    if p.auth == "bearer":
        return "bearer"
    if p.auth.startswith("api_key"):
        return "api_key"
    return "other_auth"


def oauth_issuer(ep: Endpoint) -> str:
    """The issuer URL of an endpoint's authorization server (path-inserted tenant)."""
    port = urlsplit(ep.url).port
    origin = f"{ep.scheme}://{ep.host}" + (f":{port}" if port else "")
    return f"{origin}/oauth/t{ep.index}"


def _oauth_details(ep: Endpoint, row: dict[str, str]) -> None:
    p = ep.profile
    if p.auth in ("oauth", "oauth_wellknown"):
        row["oauth_issuer"] = oauth_issuer(ep)
    elif p.auth == "oauth_issuer_mismatch":
        # The census reports the issuer the metadata claims (the mismatch is the breakage).
        row["oauth_issuer"] = oauth_issuer(ep) + "-other"
    else:
        return
    row["oauth_dcr"] = _bool(p.oauth_dcr)
    row["oauth_cimd"] = _bool(p.oauth_cimd)
    row["oauth_pkce_s256"] = _bool(p.oauth_pkce)


def _findings(ep: Endpoint, row: dict[str, str]) -> str:
    codes: list[str] = []
    answered = row["status"] not in ("unreachable", "skipped")
    if _secret_in_url(ep.url) or ep.profile.secret:
        codes.append("secret_in_url")
    if answered and row["tls"] == "none":
        codes.append("plain_http")
    if row["tls"] == "invalid":
        codes.append("tls_invalid")
    if row["tool_count"] not in ("", "*") and int(row["tool_count"]) > 30:
        codes.append("many_tools")
    if row["origin_validated"] == "false":
        codes.append("origin_not_validated")
    if row["cors_class"] in ("wildcard", "reflect", "reflect_credentials"):
        codes.append("cors_open")
    if ep.profile.behaviour == "nul_ansi":
        codes.append("ansi_escape")
    if ep.profile.behaviour == "huge_description" and row["status"] == "healthy":
        codes.append("oversized_definition")
    if ep.profile.toolset in PLANTS and row["status"] == "healthy":
        codes.extend(PLANTS[ep.profile.toolset].codes)
    return ";".join(sorted(set(codes)))


#: Columns of ``changes.csv``: what a correct census reports between a run at epoch 1 and a
#: run at epoch 2 (after ``Testbed.set_epoch(2)``), for every endpoint that changes.
CHANGE_COLUMNS: tuple[str, ...] = ("url", "profile", "codes", "rug_pull_tools", "findings_epoch2")


def expected_change(ep: Endpoint, row: dict[str, str]) -> dict[str, str] | None:
    """The ``changes.csv`` row of ``ep`` (None: nothing changes at epoch 2).

    ``codes``: ``;``-joined run-to-run finding codes (``census.findings.diff_codes``);
    ``rug_pull_tools``: the tool names reported as rug-pulled; ``findings_epoch2``: the
    endpoint's ``findings`` column in a run at epoch 2 (``row`` is its manifest row).
    """
    change = RUG_PULLS.get(ep.profile.rug_pull)
    if change is None:
        return None
    findings = sorted(set(filter(None, row["findings"].split(";"))) | set(change.introduced))
    return {
        "url": ep.url,
        "profile": ep.profile.name,
        "codes": ";".join(change.codes),
        "rug_pull_tools": ";".join(rug_pulled_tools(ep)),
        "findings_epoch2": ";".join(findings),
    }


def expected_row(ep: Endpoint) -> dict[str, str]:
    """The manifest row for one endpoint (see RULES.md for the reasoning)."""
    p = ep.profile
    row = dict.fromkeys(MANIFEST_COLUMNS, "")
    row["url"] = ep.url
    row["profile"] = p.name
    b = p.behaviour
    if b in _SKIPPED:
        row["status"], row["failure_reason"] = "skipped", b
    elif b in _NO_ANSWER:
        row["status"], row["failure_reason"] = "unreachable", _NO_ANSWER[b]
        if b == "tls_invalid":
            row["tls"] = "invalid"
    elif b in _HTTP_ONLY:
        row["status"], row["failure_reason"] = _HTTP_ONLY[b]
        row["tls"] = _tls(p)
        row["rate_limit_class"] = _HTTP_ONLY_RATE.get(b, "none_observed")
    elif b in _NOT_CONFIRMED:
        row["status"], row["failure_reason"] = _NOT_CONFIRMED[b]
        row["tls"] = _tls(p)
        row["rate_limit_class"] = _rate(p)
    elif p.auth != "none":
        row["status"] = "auth_required"
        row["tls"] = _tls(p)
        row["auth_class"] = _auth_class(p)
        _oauth_details(ep, row)
        row["cors_class"] = _cors(p)
        row["rate_limit_class"] = _rate(p)
    else:
        _mcp_row(ep, row)
    row["findings"] = _findings(ep, row)
    _attempts(ep, row)
    return row


def _attempts(ep: Endpoint, row: dict[str, str]) -> None:
    """Confirmation columns: planted for the flapping entries (census.testbed.flapping); for
    every other endpoint they depend on whether the crawl confirms (``--no-confirm``, a
    one-off ``census probe``), so they are not checked (``*``)."""
    b = ep.profile.behaviour
    if b in FLAPS:
        row["attempts"], row["confirmed"], row["flapping"] = expected_attempts(b)
    else:
        row["attempts"] = row["confirmed"] = row["flapping"] = "*"


def _mcp_row(ep: Endpoint, row: dict[str, str]) -> None:
    p = ep.profile
    row["status"] = "healthy"
    row["era"] = p.era
    row["transport"] = "sse" if p.era == "legacy_sse" else "streamable_http"
    row["protocol_version"] = MODERN_VERSION if p.era in ("modern", "dual") else p.latest_version
    if p.era in ("handshake", "dual"):
        row["session"] = "stateful" if p.stateful else "stateless"
    # A lone surrogate cannot be written to the manifest (UTF-8): its stored form is the
    # sanitiser's, not checked here.
    row["server_name"] = "*" if p.behaviour == "server_name_lone_surrogate" else p.server_name
    row["server_version"] = p.server_version
    row["auth_class"] = "none"
    row["cors_class"] = _cors(p)
    row["origin_validated"] = _bool(p.origin_check)
    row["rate_limit_class"] = _rate(p)
    row["tls"] = _tls(p)
    for column, count in (
        ("tool_count", p.tools),
        ("resource_count", p.resources),
        ("prompt_count", p.prompts),
    ):
        row[column] = "" if count is None else str(count)
    if p.behaviour in _DEGRADED:
        row["status"] = "degraded"
        row["failure_reason"] = _DEGRADED[p.behaviour]
        capped = ("endless_cursor", "cursor_loop", "huge_page")
        row["tool_count"] = "*" if p.behaviour in capped else ""
        if p.behaviour == "stall_listing":
            # Tools list whole; the target deadline ends the probe in resources or prompts
            # (which one depends on the prober's pace), before CORS and Origin are checked.
            row["tool_count"] = str(p.tools)
            row["resource_count"], row["prompt_count"] = "*", ""
            row["cors_class"] = row["origin_validated"] = ""
        if p.behaviour == "protocol_version_crlf":
            # The era is confirmed, the version stored escaped (Python's unicode_escape); no
            # list is made over a session whose version census cannot echo in a header.
            row["protocol_version"] = f"{p.latest_version}{hostile.CRLF_TAIL}".encode(
                "unicode_escape"
            ).decode("ascii")
            row["tool_count"] = row["resource_count"] = row["prompt_count"] = ""
        if p.behaviour == "session_broken":
            # Every list shares the broken session, so none of them is counted.
            row["resource_count"] = row["prompt_count"] = ""
