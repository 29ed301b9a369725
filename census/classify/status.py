"""`status` and `failure_reason`: what could be established, and the precise reason if not all.

Decided on JSON-RPC bodies and transport errors, never on an HTTP status alone:

    skipped        policy (notes.skipped: invalid_url, opted_out, private_address)
    healthy        MCP confirmed and every advertised listing completed, within the target's
                   deadline
    degraded       MCP confirmed, a listing failed (its transport error, protocol_error for an
                   unreadable body or an answer carrying another request's id, list_failed for
                   an error result, a session that broke, or a listing past the page/item caps
                   — items within one page count too — or looping); the confirming
                   protocolVersion is not echoable (protocol_error); the target deadline cut
                   the probe short (timeout).  Also without a confirmed era: a modern error,
                   or an HTTP+SSE `endpoint` event whose session failed (protocol_error for an
                   endpoint that is no usable URL or an unreadable reply, else the step's
                   reason)
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
from census.classify.wire import any_response, content_type, json_body, rpc_message
from census.net.addresses import is_public
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
        if method in stopped:
            # Every page was a valid result, but the walk stopped at a cap or a loop; decided
            # on the note, so a stored page cut for size cannot change the verdict.
            out[method] = FailureReason.LIST_FAILED
            continue
        out[method] = None
        for page in pages:
            reason = page_failure(page, method)
            if reason is not None:
                out[method] = reason
                break
        else:
            if _has_next_cursor(pages[-1]):
                # The walk ended before the page its cursor names: cut short (by the target
                # deadline when noted), so the items seen are not the listing.
                deadline = evidence.notes.get("target_deadline_hit")
                out[method] = FailureReason.TIMEOUT if deadline else FailureReason.LIST_FAILED
    return out


def _has_next_cursor(page: Exchange) -> bool:
    message = rpc_message(page)
    result = message.get("result") if message else None
    cursor = result.get("nextCursor") if isinstance(result, dict) else None
    return isinstance(cursor, str) and bool(cursor)


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
        if protocol.version_invalid:
            return Status.DEGRADED, FailureReason.PROTOCOL_ERROR
        for reason in list_outcomes(evidence, protocol.listing_era).values():
            if reason is not None:
                return Status.DEGRADED, reason
        if evidence.notes.get("target_deadline_hit"):
            # The target's deadline cut the probe short (mid-listing, or before a step that
            # was due): what was not seen cannot be called healthy.
            return Status.DEGRADED, FailureReason.TIMEOUT
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
    if protocol.legacy_signal:
        return Status.DEGRADED, _legacy_reason(evidence)
    statuses = [_effective(x) for x in answered]
    if all(s == 429 or s >= 500 for s in statuses):
        return Status.HTTP_ERROR, (
            FailureReason.HTTP_429 if statuses[0] == 429 else FailureReason.HTTP_5XX
        )
    primary = next((x for x in answered if x.step == "initialize"), answered[0])
    return Status.NOT_MCP, _not_mcp_reason(primary)


def _legacy_reason(evidence: Evidence) -> FailureReason:
    """Why an HTTP+SSE session whose `endpoint` event arrived was not established."""
    for step in ("legacy_sse:initialize", "legacy_sse:initialize:post"):
        exchange = last(evidence, step)
        if exchange is None:
            continue
        if exchange.error == FailureReason.INVALID_URL:
            return FailureReason.PROTOCOL_ERROR  # the endpoint the server named is unusable
        if exchange.error is not None:
            return FailureReason(exchange.error)  # e.g. timeout: no reply on the stream
        if exchange.status is not None and exchange.status >= 500:
            return FailureReason.HTTP_5XX
        if exchange.status is not None and exchange.status >= 400:
            return FailureReason.HTTP_4XX
    # An endpoint event that is no usable URL, or a reply that is no InitializeResult.
    return FailureReason.PROTOCOL_ERROR


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
        if any_response(exchange):
            return FailureReason.PROTOCOL_ERROR  # JSON-RPC, but answering another request's id
        return FailureReason.NOT_JSONRPC
    return FailureReason.PROTOCOL_ERROR


def _redirect_reason(exchange: Exchange) -> FailureReason:
    location = exchange.response_headers.get("location", "")
    try:
        host = URL(exchange.url).join(URL(location)).host or ""
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return FailureReason.REDIRECT_REFUSED
    if not is_public(address):
        return FailureReason.PRIVATE_ADDRESS
    return FailureReason.REDIRECT_REFUSED
