"""Pure readers of recorded exchanges: the JSON-RPC message an answer carried, and what it means.

Both the prober (to decide its next step) and the classifiers (to re-run over stored evidence)
read answers through these functions, so a decision and its later re-classification agree.
"""

from __future__ import annotations

import json
from typing import Any

from census.net.sse import SSEParser
from census.records import Exchange

__all__ = [
    "HANDSHAKE_VERSIONS",
    "MODERN_VERSION",
    "content_type",
    "discover_result",
    "error_code",
    "initialize_result",
    "is_modern_error",
    "json_body",
    "rpc_message",
]

MODERN_VERSION = "2026-07-28"
HANDSHAKE_VERSION = "2025-11-25"
HANDSHAKE_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
#: Spec-reserved modern error codes, and their beta-era numbers (still seen on old servers).
MODERN_ERROR_CODES = frozenset({-32020, -32021, -32022, -32001, -32003, -32004})


def content_type(exchange: Exchange) -> str:
    return exchange.response_headers.get("content-type", "").split(";")[0].strip().lower()


def json_body(exchange: Exchange) -> Any:
    """The body parsed as JSON, or None (not JSON, empty, or no answer)."""
    if not exchange.body:
        return None
    try:
        return json.loads(exchange.body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None


def rpc_message(exchange: Exchange, rpc_id: Any = None) -> dict[str, Any] | None:
    """The JSON-RPC response in an answer (JSON or SSE); with ``rpc_id``, only one answering it.

    Without ``rpc_id``, error responses carrying a null or string id (transport errors) count.
    """
    if exchange.status is None or not exchange.body:
        return None
    if content_type(exchange) == "text/event-stream" or exchange.body.lstrip().startswith(
        ("event:", "data:", ":", "id:", "retry:")
    ):
        candidates = _sse_messages(exchange.body)
    else:
        parsed = json_body(exchange)
        candidates = [parsed] if isinstance(parsed, dict) else []
    for message in candidates:
        if not _is_response(message):
            continue
        if rpc_id is None or message.get("id") == rpc_id or "error" in message:
            return message
    return None


def _sse_messages(text: str) -> list[dict[str, Any]]:
    parser = SSEParser()
    out: list[dict[str, Any]] = []
    for event in parser.feed(text + "\n\n"):
        if not event.data:
            continue
        try:
            message = json.loads(event.data)
        except (ValueError, RecursionError):
            continue
        if isinstance(message, dict):
            out.append(message)
    return out


def _is_response(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and message.get("jsonrpc") == "2.0"
        and ("result" in message or "error" in message)
    )


def error_code(message: dict[str, Any] | None) -> int | None:
    if message is None:
        return None
    error = message.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), int):
        return int(error["code"])
    return None


def is_modern_error(exchange: Exchange) -> bool:
    """A recognised 2026-07-28 error: 400 + -32020/-32021/-32022 (or -32602 naming the _meta
    envelope), or 404 + -32601.  Never the HTTP status alone."""
    message = rpc_message(exchange)
    code = error_code(message)
    if code is None or message is None:
        return False
    if exchange.status == 404:
        return code == -32601
    if code in MODERN_ERROR_CODES:
        return True
    error = message.get("error") or {}
    text = str(error.get("message", "")) if isinstance(error, dict) else ""
    return code == -32602 and "_meta" in text


def discover_result(exchange: Exchange) -> dict[str, Any] | None:
    """A DiscoverResult that lists the modern version, from a 2xx answer."""
    if exchange.status is None or not 200 <= exchange.status < 300:
        return None
    message = rpc_message(exchange)
    result = message.get("result") if message else None
    if not isinstance(result, dict):
        return None
    versions = result.get("supportedVersions")
    if not isinstance(versions, list) or MODERN_VERSION not in versions:
        return None
    return result


def initialize_result(exchange: Exchange) -> dict[str, Any] | None:
    """An InitializeResult with a protocol version, from a 2xx answer (JSON or SSE)."""
    if exchange.status is None or not 200 <= exchange.status < 300:
        return None
    message = rpc_message(exchange)
    result = message.get("result") if message else None
    if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str):
        return result
    return None


def supported_versions(exchange: Exchange) -> list[str]:
    """``error.data.supported`` of a version-negotiation error, if any."""
    message = rpc_message(exchange)
    error = message.get("error") if message else None
    data = error.get("data") if isinstance(error, dict) else None
    supported = data.get("supported") if isinstance(data, dict) else None
    return [v for v in supported if isinstance(v, str)] if isinstance(supported, list) else []
