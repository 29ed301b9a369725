"""Issue 12's hostile answers: every shape a server can send that once poisoned a run.

Each shape is one ``Profile.behaviour`` (catalogue entries in ``census.testbed.catalog``,
``HOSTILE_CATALOG``; expected rows in ``census.testbed.expect``; the verdicts in RULES.md,
"Issue 12: hostile answers").  They are served by the ordinary MCP handlers
(``census.testbed.mcp``, ``behaviours``, ``server``) through hooks in this module, so a hostile
endpoint is otherwise the working server its profile describes.  The main ones:

* :func:`plant_tool` — one tool whose definition carries the hostile value (NaN, a lone
  surrogate, 100-deep nesting, a million-character description …);
* :func:`answer` — the JSON-RPC answer object changed before it is serialised (a mismatched id,
  a protocolVersion with CR/LF, a 40 KiB ``instructions``);
* :func:`wire` — the serialised bytes changed where ``json.dumps`` cannot write the value
  (``1e999999``, the escape ``\\ud800`` of a lone surrogate);
* :class:`RawHeaderResponse` — a response header with bytes that are not UTF-8.

Every answer is bounded: the largest body is the million-character description (~1 MB, under
the prober's 1 MiB wire cap so it is read whole), the slowest endpoint holds back two lists'
pages for ``2 × (STALL_PAGES - 1) × STALL_S`` seconds in all.
"""

from __future__ import annotations

import asyncio
import math
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from census.testbed.model import Endpoint, Profile

__all__ = [
    "CRLF_TAIL",
    "HUGE_DESCRIPTION_CHARS",
    "HUGE_PAGE_TOOLS",
    "STALL_PAGES",
    "STALL_PAGE_SIZE",
    "STALL_S",
    "TOOL_PLANTS",
    "VERY_DEEP",
    "RawHeaderResponse",
    "answer",
    "deep_tools_body",
    "huge_page_tools",
    "legacy_endpoint",
    "plant_tool",
    "raw_header_bytes",
    "sse_retry",
    "stall",
    "surrogate_name",
    "userinfo_url",
    "wire",
]

#: Seconds each resources/list and prompts/list page after the first is held back by
#: ``stall_listing``: far under the prober's read timeout (5 s in the agreement test, 8 s by
#: default, with room for a loaded machine) so no single step fails, but the 2 × 18 held pages
#: (72 s) outlast its 60 s target deadline.  Tools list at full speed first.
STALL_S = 2.0
STALL_PAGES = 19  # per list, under the prober's 20-page cap: the deadline, not the cap, ends it
STALL_PAGE_SIZE = 10
_STALLED = frozenset({"resources/list", "prompts/list"})
#: Tools in the one page of ``huge_page`` (the prober keeps at most 1,000 items per list).
HUGE_PAGE_TOOLS = 5_000
HUGE_DESCRIPTION_CHARS = 1_000_000
#: Nesting of ``schema_deep_100`` (storable after the sanitiser's depth limit) and of the
#: unparsable ``schema_deep_100k`` / ``legacy_deep_json`` answers.
DEEP_SCHEMA = 100
VERY_DEEP = 100_000
#: Size of the ``instructions`` of ``huge_initialize``: beyond the 16 KiB evidence cap, within
#: the 256 KiB read cap (``huge_as_metadata`` pads its document the same way: behaviours.py).
HUGE_TEXT_BYTES = 40 * 1024
#: What ``protocol_version_crlf`` appends to its protocolVersion (a header injection attempt).
CRLF_TAIL = "\r\nX-Injected: 1"
#: The userinfo planted in URLs census did not choose (never to become an Authorization header).
USERINFO = "census:tbpassword"

# Values json.dumps cannot write: a sentinel in the object, swapped on the wire.
_SURROGATE = "__census_lone_surrogate__"
_OVERFLOW = "__census_overflow__"
_RAW_HEADER_MARK = "__census_raw_header__"
_RAW_HEADER = b"caf\xe9 \xff\xfe \xc3\x28"  # Latin-1 é, two invalid bytes, a broken pair

#: Behaviours whose serialised answers need :func:`wire`.
_WIRE = frozenset({"schema_overflow", "schema_lone_surrogate", "server_name_lone_surrogate"})


def surrogate_name(name: str) -> str:
    """A server name that reaches the wire with a lone surrogate (``\\ud800``) in it."""
    return f"{name}-{_SURROGATE}"


def _prop(**schema: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"value": {"type": "number", **schema}}}


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"level": node}}
    return node


@cache
def _huge_description() -> str:
    sentence = "Returns the records of the account, newest first. "
    return (sentence * (HUGE_DESCRIPTION_CHARS // len(sentence) + 1))[:HUGE_DESCRIPTION_CHARS]


#: The planted tool of each tool-definition behaviour (honest wording: no poisoning rule fires,
#: except ``oversized_definition`` for the million-character description).
TOOL_PLANTS: dict[str, Any] = {
    "schema_nan": lambda: _plant("set_threshold", _prop(default=math.nan, minimum=math.nan)),
    "schema_infinity": lambda: _plant(
        "set_limit", _prop(maximum=math.inf, minimum=-math.inf, default=math.inf)
    ),
    "schema_overflow": lambda: _plant("set_ceiling", _prop(maximum=_OVERFLOW)),
    "schema_huge_int": lambda: _plant(
        "set_counter", _prop(maximum=2**64, minimum=-(10**30), default=10**400)
    ),
    "schema_nul": lambda: _plant(
        "read_field\u0000",
        {
            "type": "object",
            "properties": {
                "na\u0000me": {"type": "string", "description": "A\u0000B", "default": "\u0000"}
            },
        },
        "Reads a field.\u0000",
    ),
    "schema_lone_surrogate": lambda: _plant(
        "read_label",
        {
            "type": "object",
            "properties": {f"label{_SURROGATE}": {"type": "string", "enum": [f"x{_SURROGATE}y"]}},
        },
        f"Reads a label {_SURROGATE} as stored.",
    ),
    "schema_deep_100": lambda: _plant("read_tree", _nested(DEEP_SCHEMA)),
    "huge_description": lambda: _plant(
        "list_records", {"type": "object", "properties": {}}, _huge_description()
    ),
}


def _plant(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "description": description or f"{name.replace('_', ' ').capitalize()}.",
        "inputSchema": schema,
    }


def plant_tool(prof: Profile) -> dict[str, Any] | None:
    """The hostile tool a profile lists first (None: none planted)."""
    build = TOOL_PLANTS.get(prof.behaviour)
    return None if build is None else dict(build())


@cache
def huge_page_tools(seed: int) -> tuple[dict[str, Any], ...]:
    """``HUGE_PAGE_TOOLS`` small tools for one page (~350 KB: under the wire cap)."""
    return tuple(
        {"name": f"op_{seed % 1000}_{i}", "inputSchema": {"type": "object"}}
        for i in range(HUGE_PAGE_TOOLS)
    )


async def stall(prof: Profile, method: object, params: dict[str, Any]) -> None:
    """Hold back a ``stall_listing`` page (bounded: STALL_S, every page after a list's first)."""
    if prof.behaviour == "stall_listing" and method in _STALLED and "cursor" in params:
        await asyncio.sleep(STALL_S)


def deep_tools_body(id_bytes: bytes, depth: int) -> bytes:
    """A tools/list answer whose only tool's schema is ``depth`` arrays deep (unparsable)."""
    return (
        b'{"jsonrpc":"2.0","id":' + id_bytes + b',"result":{"tools":[{"name":"deep",'
        b'"inputSchema":' + b"[" * depth + b"]" * depth + b"}]}}"
    )


def _other_id(id_: Any) -> Any:
    return id_ + 7919 if isinstance(id_, int) and not isinstance(id_, bool) else f"{id_}-other"


@cache
def _huge_instructions() -> str:
    sentence = "This server answers questions about the records of the connected account. "
    return (sentence * (HUGE_TEXT_BYTES // len(sentence) + 1))[:HUGE_TEXT_BYTES]


def answer(prof: Profile, payload: dict[str, Any]) -> dict[str, Any]:
    """A 200 JSON-RPC answer as the profile's behaviour sends it."""
    b = prof.behaviour
    result = payload.get("result")
    if not isinstance(result, dict):
        return payload
    if b == "id_mismatch_all" or (b == "id_mismatch_list" and "tools" in result):
        return {**payload, "id": _other_id(payload.get("id"))}
    if b == "protocol_version_crlf" and "protocolVersion" in result:
        injected = f"{result['protocolVersion']}{CRLF_TAIL}"
        return {**payload, "result": {**result, "protocolVersion": injected}}
    if b == "huge_initialize" and "capabilities" in result:
        return {**payload, "result": {**result, "instructions": _huge_instructions()}}
    return payload


def wire(prof: Profile, body: bytes) -> bytes:
    """Serialised answer bytes with the values ``json.dumps`` cannot write put in."""
    if prof.behaviour not in _WIRE:
        return body
    return body.replace(b'"' + _OVERFLOW.encode() + b'"', b"1e999999").replace(
        _SURROGATE.encode(), b"\\ud800"
    )


def sse_retry(prof: Profile) -> bytes:
    """The ``retry:`` field of the priming event."""
    if prof.behaviour == "sse_retry_nonascii":
        return "²".encode()
    if prof.behaviour == "sse_retry_digits":
        return b"9" * 5000
    return b"1000"


def userinfo_url(url: str) -> str:
    """``url`` with :data:`USERINFO` put in front of its host."""
    parts = urlsplit(url)
    return url.replace(f"{parts.scheme}://", f"{parts.scheme}://{USERINFO}@", 1)


def legacy_endpoint(ep: Endpoint, sid: str) -> bytes:
    """The ``endpoint`` event's data of an HTTP+SSE server."""
    relative = f"/messages/?session_id={sid}"
    origin = f"{ep.scheme}://{urlsplit(ep.url).netloc}"
    b = ep.profile.behaviour
    if b == "legacy_endpoint_invalid_url":
        return f"{ep.scheme}://[{ep.host}{relative}".encode()
    if b == "legacy_endpoint_bad_port":
        return f"{ep.scheme}://{ep.host}:99999{relative}".encode()
    if b == "legacy_endpoint_userinfo":
        return userinfo_url(origin + relative).encode()
    return relative.encode()


def raw_header_bytes() -> bytes:
    """The invalid-UTF-8 value ``header_invalid_utf8`` sends in ``X-Server-Note``."""
    return _RAW_HEADER


class RawHeaderResponse(web.Response):
    """A response whose ``X-Server-Note`` header value is raw, invalid UTF-8 on the wire.

    aiohttp serialises header values as UTF-8 text, so the value is a marker swapped in the
    serialised header block (a private buffer of aiohttp's writer; the wire test proves the
    bytes arrive, so an aiohttp change cannot silently disarm the profile).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.headers["X-Server-Note"] = _RAW_HEADER_MARK

    async def _write_headers(self) -> None:
        request = self._req
        writer = self._payload_writer
        assert request is not None and writer is not None
        version = request.version
        status_line = f"HTTP/{version[0]}.{version[1]} {self._status} {self._reason}"
        await writer.write_headers(status_line, self._headers)
        buffered = getattr(writer, "_headers_buf", None)
        if isinstance(buffered, bytes):
            writer._headers_buf = buffered.replace(  # type: ignore[attr-defined]
                _RAW_HEADER_MARK.encode(), _RAW_HEADER
            )
        if self._send_headers_immediately:
            writer.send_headers()
