"""`status` and `failure_reason`: what could be established, and the precise reason if not all.

Decided on JSON-RPC bodies and transport errors, never on an HTTP status alone:

    skipped        policy (notes.skipped: invalid_url, opted_out, private_address)
    healthy        MCP confirmed and every advertised listing completed
    degraded       MCP confirmed, a listing failed (its transport error, protocol_error for an
                   unreadable body, list_failed for an error result, a session that broke, or
                   a listing past the page/item caps or looping)
    auth_required  the MCP request was answered 401/403
    unreachable    no HTTP answer to any MCP request (dns/connect/tls/reset/timeout)
    http_error     only 5xx/429 answers
    not_mcp        HTTP answered without an MCP signal (reason from the initialize answer)
"""

from __future__ import annotations

import ipaddress

from yarl import URL

from census.classify.evidence import LIST_METHODS, last, steps
from census.classify.protocol import Protocol
from census.classify.wire import content_type, json_body, rpc_message
from census.records import Evidence, Exchange
from census.vocabulary import FailureReason, Status

__all__ = ["classify_status", "list_outcomes"]

_NO_ANSWER = frozenset(
    {
        FailureReason.DNS_ERROR,
        FailureReason.CONNECT_REFUSED,
        FailureReason.CONNECT_TIMEOUT,
        FailureReason.TLS_ERROR,
        FailureReason.CONNECTION_RESET,
        FailureReason.TIMEOUT,
    }
)
_POLICY = frozenset({FailureReason.PRIVATE_ADDRESS, FailureReason.INVALID_URL})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def list_outcomes(evidence: Evidence, era: str | None) -> dict[str, FailureReason | None]:
    """Per listed method: None when every page came back as a valid result, else the reason."""
    if era is None:
        return {}
    stopped = evidence.notes.get("list_stopped") or {}
    out: dict[str, FailureReason | None] = {}
    for method in LIST_METHODS:
        pages = steps(evidence, f"{era}:{method}")
        if not pages:
            continue
        out[method] = FailureReason.LIST_FAILED if method in stopped else None
        for page in pages:
            reason = page_failure(page, method)
            if reason is not None:
                out[method] = reason
                break
    return out


def page_failure(page: Exchange, method: str) -> FailureReason | None:
    """Why one list page is not a usable result (None when it is)."""
    if page.error is not None:
        return FailureReason(page.error)
    if page.status is None:
        return FailureReason.PROTOCOL_ERROR
    message = rpc_message(page)
    if message is None:
        # 2xx without a readable JSON-RPC message (bad JSON, absurd nesting) vs an HTTP error.
        if 200 <= page.status < 300:
            return FailureReason.PROTOCOL_ERROR
        return FailureReason.LIST_FAILED
    result = message.get("result")
    key = method.split("/")[0]
    if not isinstance(result, dict) or not isinstance(result.get(key), list):
        return FailureReason.LIST_FAILED
    return None


def classify_status(evidence: Evidence, protocol: Protocol) -> tuple[Status, FailureReason | None]:
    skipped = evidence.notes.get("skipped")
    if skipped:
        return Status.SKIPPED, FailureReason(skipped)
    if protocol.era is not None:
        for reason in list_outcomes(evidence, protocol.listing_era).values():
            if reason is not None:
                return Status.DEGRADED, reason
        return Status.HEALTHY, None
    main = [x for x in (last(evidence, "initialize"), last(evidence, "discover")) if x]
    if not main:
        return Status.UNREACHABLE, None
    if any(x.status in (401, 403) for x in main):
        return Status.AUTH_REQUIRED, None
    answered = [x for x in main if x.status is not None]
    if not answered:
        reasons = [FailureReason(x.error) for x in main if x.error]
        reason = reasons[0] if reasons else FailureReason.TIMEOUT
        if reason in _POLICY:
            return Status.SKIPPED, reason
        if reason in _NO_ANSWER:
            return Status.UNREACHABLE, reason
        return Status.NOT_MCP, reason  # something answered, but not readable HTTP
    if protocol.modern_signal:
        return Status.DEGRADED, FailureReason.PROTOCOL_ERROR
    statuses = [_effective(x) for x in answered]
    if all(s == 429 or s >= 500 for s in statuses):
        return Status.HTTP_ERROR, (
            FailureReason.HTTP_429 if statuses[0] == 429 else FailureReason.HTTP_5XX
        )
    primary = next((x for x in answered if x.step == "initialize"), answered[0])
    return Status.NOT_MCP, _not_mcp_reason(primary)


def _effective(exchange: Exchange) -> int:
    assert exchange.status is not None
    return exchange.status


def _not_mcp_reason(exchange: Exchange) -> FailureReason:
    status = exchange.status or 0
    if exchange.error is not None:
        return FailureReason(exchange.error)
    if status in _REDIRECTS:
        return _redirect_reason(exchange)
    if status == 404:
        return FailureReason.HTTP_404
    if status == 429:
        return FailureReason.HTTP_429
    if status >= 500:
        return FailureReason.HTTP_5XX
    if status >= 400:
        return FailureReason.HTTP_4XX
    body = json_body(exchange)
    if body is None and content_type(exchange) != "text/event-stream":
        return FailureReason.NOT_JSON
    if rpc_message(exchange) is None:
        return FailureReason.NOT_JSONRPC
    return FailureReason.PROTOCOL_ERROR


def _redirect_reason(exchange: Exchange) -> FailureReason:
    location = exchange.response_headers.get("location", "")
    try:
        host = URL(exchange.url).join(URL(location)).host or ""
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return FailureReason.REDIRECT_REFUSED
    if not address.is_global:
        return FailureReason.PRIVATE_ADDRESS
    return FailureReason.REDIRECT_REFUSED
