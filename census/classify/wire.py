"""Pure readers of recorded exchanges: the JSON-RPC message an answer carried, and what it means.

Both the prober (to decide its next step) and the classifiers (to re-run over stored evidence)
read answers through these functions, so a decision and its later re-classification agree.

Bodies are read whole (up to the read caps) in memory.  Evidence is *stored* with each body cut
to a prefix (:func:`census.classify.evidence.stored_form`); an exchange whose body was cut
carries ``parsed``, the JSON it held reduced to exactly what these readers look at
(:func:`reduce_answer`), and these readers use it instead of the prefix.  So a stored, cut
answer classifies exactly as the whole one did, and classification stays pure and re-runnable.
"""

from __future__ import annotations

import json
import math
from typing import Any

from census.net.sse import SSEParser
from census.records import Exchange

__all__ = [
    "HANDSHAKE_VERSIONS",
    "MODERN_VERSION",
    "any_response",
    "content_type",
    "discover_result",
    "error_code",
    "initialize_result",
    "is_modern_error",
    "json_body",
    "reduce_answer",
    "request_id",
    "rpc_message",
    "same_id",
    "valid_version",
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
    if exchange.parsed is not None:
        return exchange.parsed.get("json")
    return _loads(exchange.body)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None


def request_id(exchange: Exchange) -> int | str | None:
    """The JSON-RPC id census sent in this exchange's request (None: a notification or GET)."""
    body = exchange.request_body
    rpc_id = body.get("id") if isinstance(body, dict) else None
    return rpc_id if isinstance(rpc_id, int | str) and not isinstance(rpc_id, bool) else None


def same_id(answer_id: Any, rpc_id: int | str) -> bool:
    """A response id answering ``rpc_id``: the same JSON value (``true`` is not ``1``)."""
    return type(answer_id) is type(rpc_id) and answer_id == rpc_id


def rpc_message(exchange: Exchange, rpc_id: Any = None) -> dict[str, Any] | None:
    """The JSON-RPC response in an answer (JSON or SSE) answering the request's id.

    The id is ``rpc_id``, else the one census sent (``request_body``).  A result carrying
    another id answers someone else's request and is not the answer.  An error counts when its
    id is ours, null or a string (transport errors: JSON-RPC's null when the request could not
    be read, the SDKs' ``"server-error"``), never when it is another number.
    """
    if exchange.status is None or not exchange.body:
        return None
    wanted = request_id(exchange) if rpc_id is None else rpc_id
    for message in _candidates(exchange):
        if not isinstance(message, dict) or not _is_response(message):
            continue
        answer_id = message.get("id")
        if wanted is None or same_id(answer_id, wanted):
            return message
        if "error" in message and (answer_id is None or isinstance(answer_id, str)):
            return message
    return None


def any_response(exchange: Exchange) -> bool:
    """The answer carries a JSON-RPC response, to whichever request (see :func:`rpc_message`)."""
    if exchange.status is None or not exchange.body:
        return False
    return any(isinstance(m, dict) and _is_response(m) for m in _candidates(exchange))


def _candidates(exchange: Exchange) -> list[Any]:
    """The JSON values an answer carried: its JSON body, or its event stream's messages."""
    if exchange.parsed is not None:
        return _parsed_candidates(exchange.parsed)
    if _is_sse(exchange):
        return list(_sse_messages(exchange.body or ""))
    parsed = _loads(exchange.body or "")
    return [parsed] if isinstance(parsed, dict) else []


def _is_sse(exchange: Exchange) -> bool:
    body = exchange.body or ""
    return content_type(exchange) == "text/event-stream" or body.lstrip().startswith(
        ("event:", "data:", ":", "id:", "retry:")
    )


def _parsed_candidates(parsed: dict[str, Any]) -> list[Any]:
    if "sse" in parsed:
        messages = parsed["sse"]
        return list(messages) if isinstance(messages, list) else []
    value = parsed.get("json")
    return [value] if isinstance(value, dict) else []


def _sse_messages(text: str) -> list[dict[str, Any]]:
    parser = SSEParser()
    out: list[dict[str, Any]] = []
    for event in parser.feed(text + "\n\n"):
        if not event.data:
            continue
        message = _loads(event.data)
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


#: Longest protocolVersion census accepts (revisions are dates: "2025-11-25").
MAX_VERSION_CHARS = 64


def valid_version(version: str) -> bool:
    """A protocolVersion census may echo in an ``MCP-Protocol-Version`` header: 1-64 visible
    ASCII characters other than a backslash.  Anything else (CR/LF, other controls, non-ASCII)
    is a protocol error: echoing it would inject a header, and it names no revision.  The
    backslash is refused too because it is what escaping writes (``escaped_version``, and the
    storage sanitiser's ``\\x00``): an escaped invalid version must stay invalid when stored
    evidence is classified again."""
    return 0 < len(version) <= MAX_VERSION_CHARS and all(
        "!" <= ch <= "~" and ch != "\\" for ch in version
    )


def escaped_version(version: str) -> str:
    """A protocolVersion as stored: itself when valid, else every character that is not
    printable ASCII written as Python writes it in a string literal (``\\r``, ``\\n``,
    ``\\x00``, ``\\ud800``…), backslashes left as they are, cut to 256 chars.  NUL and lone
    surrogates come out exactly as the storage sanitiser writes them, so the stored form of an
    invalid version classifies as the version did."""
    if valid_version(version):
        return version
    return "".join(_escape_char(ch) for ch in version[:256])[:256]


def _escape_char(ch: str) -> str:
    if " " <= ch <= "~":
        return ch
    return ch.encode("unicode_escape", "backslashreplace").decode("ascii") or ch


def supported_versions(exchange: Exchange) -> list[str]:
    """``error.data.supported`` of a version-negotiation error, if any."""
    message = rpc_message(exchange)
    error = message.get("error") if message else None
    data = error.get("data") if isinstance(error, dict) else None
    supported = data.get("supported") if isinstance(data, dict) else None
    return [v for v in supported if isinstance(v, str)] if isinstance(supported, list) else []


# --- what a stored, cut body keeps: exactly what the readers above look at --------------------

#: Top-level members of a JSON document the classifiers read: JSON-RPC envelope, RFC 9728
#: protected-resource and RFC 8414 authorization-server metadata (census.classify.auth).
_DOCUMENT_KEYS = (
    "resource",
    "authorization_servers",
    "issuer",
    "registration_endpoint",
    "client_id_metadata_document_supported",
    "code_challenge_methods_supported",
)
_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
_LIST_CAPABILITIES = ("tools", "resources", "prompts")
_KEPT_TEXT = 1024


def reduce_answer(exchange: Exchange) -> dict[str, Any]:
    """The facts of a whole body that classification reads, for storing beside a cut prefix.

    ``{"json": value}`` when the body was JSON, ``{"sse": [message, …]}`` when it was read as an
    event stream, both or neither.  Each value keeps only the members read by this module and
    census.classify.auth, with the values those readers compare kept whole and the rest
    replaced by a stand-in of the same JSON type (an id that is an object stays an object), so
    every reader answers on the reduced form exactly as on the whole body.  Pure; never raises.
    """
    out: dict[str, Any] = {}
    if not exchange.body:
        return out
    value = _loads(exchange.body)
    if value is not None:
        out["json"] = _storable_numbers(_reduce_document(value))
    if _is_sse(exchange):
        out["sse"] = [_storable_numbers(_reduce_document(m)) for m in _sse_messages(exchange.body)]
    return out


#: Past this, the storage sanitiser turns an integer into a string (census.store.sanitize).
_FLOAT_MAX = 1.7976931348623157e308


def _storable_numbers(value: Any) -> Any:
    """``value`` with numbers storage would rewrite to strings replaced by finite ones.

    The sanitiser stores NaN, ±Infinity and integers beyond the double range as strings; a
    reader that checks a value's JSON type (a ``protocolVersion`` must be a string) would then
    answer differently on the stored form.  Every reader here only checks such a number's type,
    so a finite number of the same type keeps the verdict.
    """
    if isinstance(value, dict):
        return {k: _storable_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable_numbers(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return 0.0
    if isinstance(value, int) and not -_FLOAT_MAX <= value <= _FLOAT_MAX:
        return 0
    return value


def _stand_in(value: Any) -> Any:
    """A small value of the same JSON type (type is all a reader checks of it)."""
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    if isinstance(value, str):
        return value[:_KEPT_TEXT]
    return value


def _reduce_document(value: Any) -> Any:
    if not isinstance(value, dict):
        return _stand_in(value)
    out: dict[str, Any] = {}
    for key in ("jsonrpc", "id"):
        if key in value:
            out[key] = _stand_in(value[key])
    if "result" in value:
        out["result"] = _reduce_result(value["result"])
    if "error" in value:
        out["error"] = _reduce_error(value["error"])
    for key in _DOCUMENT_KEYS:
        if key not in value:
            continue
        item = value[key]
        if key == "authorization_servers" and isinstance(item, list):
            item = [_text(v) for v in item[:1]]  # only the first is followed and compared
        elif key == "code_challenge_methods_supported" and isinstance(item, list):
            item = ["S256"] if "S256" in item else []
        elif key in ("resource", "issuer"):
            item = _text(item)  # compared for equality: kept whole
        else:
            item = _stand_in(item)
        out[key] = item
    return out


def _text(value: Any) -> Any:
    """A string kept whole (a reader compares it), anything else a stand-in."""
    return value if isinstance(value, str) else _stand_in(value)


def _reduce_result(result: Any) -> Any:
    if not isinstance(result, dict):
        return _stand_in(result)
    out: dict[str, Any] = {}
    if "protocolVersion" in result:
        # Cut like any text: a version over 64 characters is invalid either way, and only its
        # first 256 are ever stored (escaped_version).
        out["protocolVersion"] = _stand_in(result["protocolVersion"])
    if "serverInfo" in result:
        out["serverInfo"] = _reduce_info(result["serverInfo"])
    capabilities = result.get("capabilities")
    if "capabilities" in result:
        out["capabilities"] = (
            {k: {} for k in _LIST_CAPABILITIES if k in capabilities}
            if isinstance(capabilities, dict)
            else _stand_in(capabilities)
        )
    versions = result.get("supportedVersions")
    if "supportedVersions" in result:
        out["supportedVersions"] = (
            [v for v in versions if v == MODERN_VERSION or v in HANDSHAKE_VERSIONS]
            if isinstance(versions, list)
            else _stand_in(versions)
        )
    meta = result.get("_meta")
    if isinstance(meta, dict) and _SERVER_INFO in meta:
        out["_meta"] = {_SERVER_INFO: _reduce_info(meta[_SERVER_INFO])}
    elif "_meta" in result:
        out["_meta"] = _stand_in(meta)
    return out


def _reduce_info(info: Any) -> Any:
    if not isinstance(info, dict):
        return _stand_in(info)
    return {k: _text(info[k]) for k in ("name", "version") if k in info}


def _reduce_error(error: Any) -> Any:
    if not isinstance(error, dict):
        return _stand_in(error)
    out: dict[str, Any] = {}
    if "code" in error:
        code = error["code"]
        out["code"] = code if isinstance(code, int) else _stand_in(code)
    message = error.get("message")
    if isinstance(message, str) and len(message) > _KEPT_TEXT:
        # Only searched for "_meta" (is_modern_error): keep the prefix, and the marker if cut.
        message = message[:_KEPT_TEXT] + (" _meta" if "_meta" in message[_KEPT_TEXT:] else "")
    if "message" in error:
        out["message"] = message
    data = error.get("data")
    if isinstance(data, dict) and isinstance(data.get("supported"), list):
        supported = [_stand_in(v) for v in data["supported"] if isinstance(v, str)]
        out["data"] = {"supported": supported[:16]}
    return out
