"""The MCP side of a virtual endpoint: modern (2026-07-28), handshake and HTTP+SSE servers.

Wire details imitate the official SDK servers as recorded in ``shared/docs/sdk-wire-transcript.txt``
(status codes, JSON-RPC error codes and messages, SSE headers and framing, session headers).
Every stream a handler holds open is bounded by :data:`STREAM_CAP_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from census.testbed import hostile, inventory, plants
from census.testbed.model import HANDSHAKE_VERSIONS, MODERN_VERSION, Endpoint, Profile

__all__ = ["STREAM_CAP_S", "McpState", "handle_mcp", "handle_messages"]

#: The longest any held-open stream lives (GET streams, legacy SSE channels).
STREAM_CAP_S = 60.0
_MAX_SESSIONS = 512
_PROTOCOL_HEADER = "MCP-Protocol-Version"
_SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache, no-transform",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}
_ENDLESS_TOOLS = 100_000
_NAMED_METHODS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


@dataclass(slots=True)
class _LegacyChannel:
    endpoint: Endpoint
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(maxsize=256))
    initialized_version: str | None = None


@dataclass(slots=True)
class McpState:
    """Mutable per-run state: sessions per endpoint and open HTTP+SSE channels."""

    sessions: dict[int, OrderedDict[str, float]] = field(default_factory=dict)
    channels: dict[str, _LegacyChannel] = field(default_factory=dict)

    def new_session(self, ep: Endpoint, keep: bool = True) -> str:
        sid = uuid.uuid4().hex
        if keep:
            table = self.sessions.setdefault(ep.index, OrderedDict())
            table[sid] = time.monotonic()
            if len(table) > _MAX_SESSIONS:
                table.popitem(last=False)  # bounded: the oldest session is forgotten
        return sid

    def has_session(self, ep: Endpoint, sid: str) -> bool:
        return sid in self.sessions.get(ep.index, {})

    def end_session(self, ep: Endpoint, sid: str) -> None:
        self.sessions.get(ep.index, OrderedDict()).pop(sid, None)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _error(id_: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": id_, "error": err}


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=_dumps(payload), content_type="application/json", headers=headers
    )


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text, headers=headers)


def sse_frames(prof: Profile, payload: bytes, event_id: int = 1) -> bytes:
    """One SSE response body: optional priming event, a comment, notification, then the answer."""
    nl = b"\r\n" if prof.crlf else b"\n"
    out = b""
    if prof.priming:
        retry = hostile.sse_retry(prof)
        out += b"id: " + str(event_id).encode() + nl + b"retry: " + retry + nl + b"data: " + nl + nl
    if prof.notify_first:
        note = {
            "jsonrpc": "2.0",
            "method": "notifications/message",
            "params": {"level": "info", "data": "working"},
        }
        out += b": keepalive" + nl + nl
        out += b"event: message" + nl + b"data: " + _dumps(note) + nl + nl
    out += b"event: message" + nl + b"data: " + payload + nl + nl
    return out


def _respond(prof: Profile, payload: dict[str, Any], headers: dict[str, str]) -> web.Response:
    """A 200 answer to a request, as JSON or SSE per the profile (and its hostile traits)."""
    body = hostile.wire(prof, _dumps(hostile.answer(prof, payload)))
    cls = hostile.RawHeaderResponse if prof.behaviour == "header_invalid_utf8" else web.Response
    if prof.response == "json":
        return cls(status=200, body=body, content_type="application/json", headers=headers)
    return cls(status=200, body=sse_frames(prof, body), headers={**_SSE_HEADERS, **headers})


def _accepts(prof: Profile, accept: str, need_sse: bool) -> bool:
    parts = {p.split(";")[0].strip().lower() for p in accept.split(",")}
    if not prof.accept_strict and "*/*" in parts:
        return True
    if "application/json" not in parts:
        return False
    return not need_sse or "text/event-stream" in parts


def _caps(prof: Profile, modern: bool) -> dict[str, Any]:
    caps: dict[str, Any] = {}
    if prof.tools is not None:
        caps["tools"] = {"listChanged": modern}
    if prof.resources is not None:
        caps["resources"] = {"listChanged": modern, "subscribe": modern}
    if prof.prompts is not None:
        caps["prompts"] = {"listChanged": modern}
    return caps


def _server_info(prof: Profile) -> dict[str, str]:
    return {"name": prof.server_name, "version": prof.server_version}


# --- listings (shared by every era) ---------------------------------------------------------


def _list_result(ep: Endpoint, method: str, params: dict[str, Any]) -> dict[str, Any] | str:
    """The result of a list method, or a str naming an error ("method", "cursor", "internal")."""
    prof = ep.profile
    key, count = {
        "tools/list": ("tools", prof.tools),
        "resources/list": ("resources", prof.resources),
        "resources/templates/list": ("resourceTemplates", prof.resources),
        "prompts/list": ("prompts", prof.prompts),
    }[method]
    if count is None:
        return "method"
    if method == "tools/list" and prof.behaviour == "list_error":
        return "internal"
    items: list[Any] | tuple[Any, ...]
    if key == "tools":
        items = plants.served_tools(ep)  # generated tools, plus any plant or rug pull
    elif key == "resources":
        items = inventory.resources(ep.seed, count)
    elif key == "resourceTemplates":
        items = []
    else:
        items = inventory.prompts(ep.seed, count)
    offset = 0
    if "cursor" in params:
        decoded = inventory.decode_cursor(params["cursor"], ep.seed)
        if decoded is None:
            return "cursor"
        offset = decoded
    if method == "tools/list" and prof.behaviour == "huge_page":
        return {"tools": list(hostile.huge_page_tools(ep.seed))}  # one page, no cursor
    if method == "tools/list" and prof.behaviour == "endless_cursor":
        # 100k tools behind a cursor chain no polite page cap reaches the end of.
        page_tools = list(inventory.tools(ep.seed, prof.page_size))
        renamed = [{**t, "name": f"{t['name']}_{offset + i}"} for i, t in enumerate(page_tools)]
        endless: dict[str, Any] = {"tools": renamed}
        if offset + prof.page_size < _ENDLESS_TOOLS:
            endless["nextCursor"] = inventory.encode_cursor(offset + prof.page_size, ep.seed)
        return endless
    if method == "tools/list" and prof.behaviour == "cursor_loop":
        chunk, _ = inventory.page(items, offset % (2 * prof.page_size), prof.page_size, ep.seed)
        nxt = inventory.encode_cursor(0 if offset else prof.page_size, ep.seed)
        return {"tools": chunk, "nextCursor": nxt}
    chunk, nxt_cursor = inventory.page(items, offset, prof.page_size, ep.seed)
    result: dict[str, Any] = {key: chunk}
    if nxt_cursor:
        result["nextCursor"] = nxt_cursor
    return result


async def _hostile_list(
    ep: Endpoint, id_: Any, request: web.Request, params: dict[str, Any]
) -> web.StreamResponse | None:
    """tools/list answers of the hostile profiles that need raw bytes (or time)."""
    b = ep.profile.behaviour
    if b in ("deep_json", "schema_deep_100k"):
        depth = 10_000 if b == "deep_json" else hostile.VERY_DEEP
        body = hostile.deep_tools_body(_dumps(id_), depth)
        return web.Response(status=200, body=body, content_type="application/json")
    if b == "invalid_utf8":
        body = (
            b'{"jsonrpc":"2.0","id":' + _dumps(id_) + b',"result":{"tools":[{"name":"bad\xff'
            b'\xfe","description":"\xc3\x28 broken","inputSchema":{"type":"object"}}]}}'
        )
        return web.Response(status=200, body=body, content_type="application/json")
    if b == "huge_json":
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        chunk = b'{"name":"t","description":"' + b"x" * 65_000 + b'","inputSchema":{}},'
        try:
            await resp.write(b'{"jsonrpc":"2.0","id":' + _dumps(id_) + b',"result":{"tools":[')
            for _ in range(50 * 1024 * 1024 // len(chunk)):
                await resp.write(chunk)
            await resp.write(b'{"name":"last","inputSchema":{}}]}}')
        except ConnectionError:
            pass  # the client stopped reading at its cap
        return resp
    return None


# --- the modern era -------------------------------------------------------------------------


def _stamp(prof: Profile, result: dict[str, Any]) -> dict[str, Any]:
    return {
        **result,
        "resultType": "complete",
        "ttlMs": 0,
        "cacheScope": "private",
        "_meta": {"io.modelcontextprotocol/serverInfo": _server_info(prof)},
    }


async def _modern(
    request: web.Request, ep: Endpoint, body: bytes, headers: dict[str, str]
) -> web.StreamResponse:
    prof = ep.profile
    if request.method != "POST":
        return web.Response(status=405, headers={**headers, "Allow": "POST"})
    if not _accepts(prof, request.headers.get("Accept", ""), prof.response == "sse"):
        return web.Response(status=406, headers=headers)
    try:
        msg = json.loads(body)
    except ValueError as exc:
        return _json(400, _error(None, -32700, f"Parse error: {exc}"), headers)
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or "method" not in msg:
        return _json(
            400,
            _error(None, -32600, "Body must be a single JSON-RPC request or notification object"),
            headers,
        )
    version = request.headers.get(_PROTOCOL_HEADER)
    if "id" not in msg:
        if version != MODERN_VERSION:
            data = {"supported": [MODERN_VERSION], "requested": version}
            return _json(400, _error(None, -32022, "Unsupported protocol version", data), headers)
        return web.Response(status=202, headers=headers)
    id_, method = msg["id"], msg["method"]
    raw_params = msg.get("params")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    meta = params.get("_meta")
    if (
        not isinstance(meta, dict)
        or "io.modelcontextprotocol/protocolVersion" not in meta
        or "io.modelcontextprotocol/clientCapabilities" not in meta
    ):
        if method == "initialize" and version is None:
            return _json(404, _error(id_, -32601, "Method not found", method), headers)
        return _json(
            400,
            _error(
                id_,
                -32602,
                "params._meta must be an object carrying the "
                "required 'io.modelcontextprotocol/protocolVersion' and "
                "'io.modelcontextprotocol/clientCapabilities' envelope keys",
            ),
            headers,
        )
    if request.headers.get("Mcp-Method") != method:
        return _json(
            400,
            _error(id_, -32020, "mcp-method header does not match the request body's method"),
            headers,
        )
    name_key = _NAMED_METHODS.get(method)
    if name_key is not None and request.headers.get("Mcp-Name") != params.get(name_key):
        return _json(
            400,
            _error(id_, -32020, "mcp-name header does not match the request body's name"),
            headers,
        )
    if version != meta["io.modelcontextprotocol/protocolVersion"]:
        return _json(
            400,
            _error(
                id_,
                -32020,
                "mcp-protocol-version header does not match the "
                "request envelope's protocol version",
            ),
            headers,
        )
    if version != MODERN_VERSION:
        data = {"supported": [MODERN_VERSION], "requested": version}
        return _json(400, _error(id_, -32022, "Unsupported protocol version", data), headers)
    if method == "server/discover":
        supported = [MODERN_VERSION] + ([prof.latest_version] if prof.era == "dual" else [])
        result = {
            "supportedVersions": supported,
            "capabilities": _caps(prof, True),
            "instructions": f"{prof.server_name} (census testbed).",
        }
        return _respond(
            prof, {"jsonrpc": "2.0", "id": id_, "result": _stamp(prof, result)}, headers
        )
    if method in ("tools/list", "resources/list", "resources/templates/list", "prompts/list"):
        if method == "tools/list":
            raw = await _hostile_list(ep, id_, request, params)
            if raw is not None:
                return raw
        await hostile.stall(prof, method, params)
        listed = _list_result(ep, method, params)
        if listed == "method":
            return _json(404, _error(id_, -32601, "Method not found", method), headers)
        if listed == "cursor":
            return _json(400, _error(id_, -32602, "Invalid cursor"), headers)
        if listed == "internal":
            return _json(200, _error(id_, -32603, "Internal error"), headers)
        assert isinstance(listed, dict)
        return _respond(
            prof, {"jsonrpc": "2.0", "id": id_, "result": _stamp(prof, listed)}, headers
        )
    if method == "tools/call":
        caps = meta.get("io.modelcontextprotocol/clientCapabilities")
        if not isinstance(caps, dict) or "elicitation" not in caps:
            # Every testbed tool may ask the user a question: elicitation is required.
            required: dict[str, Any] = {"requiredCapabilities": {"elicitation": {}}}
            return _json(
                400, _error(id_, -32021, "Missing required client capability", required), headers
            )
        return _json(
            200, _error(id_, -32603, "tool calls are disabled in the census testbed"), headers
        )
    return _json(404, _error(id_, -32601, "Method not found", method), headers)


# --- the handshake era (legacy Streamable HTTP) ---------------------------------------------


def _negotiate(prof: Profile, requested: object) -> str:
    supported = [v for v in HANDSHAKE_VERSIONS if v <= prof.latest_version]
    return (
        requested if isinstance(requested, str) and requested in supported else prof.latest_version
    )


def _dispatch_handshake(ep: Endpoint, msg: dict[str, Any]) -> dict[str, Any]:
    """The JSON-RPC answer to one handshake-era request (errors inside HTTP 200)."""
    prof = ep.profile
    id_, method = msg.get("id"), msg.get("method")
    params = msg.get("params") if isinstance(msg.get("params"), dict) else {}
    assert isinstance(params, dict)
    if method == "initialize":
        result = {
            "protocolVersion": _negotiate(prof, params.get("protocolVersion")),
            "capabilities": _caps(prof, False),
            "serverInfo": _server_info(prof),
            "instructions": f"{prof.server_name} (census testbed).",
        }
        return {"jsonrpc": "2.0", "id": id_, "result": result}
    if method == "ping":
        return {"jsonrpc": "2.0", "id": id_, "result": {}}
    if method in ("tools/list", "resources/list", "resources/templates/list", "prompts/list"):
        listed = _list_result(ep, method, params)
        if listed == "method":
            return _error(id_, -32601, "Method not found")
        if listed == "cursor":
            return _error(id_, -32602, "Invalid cursor")
        if listed == "internal":
            return _error(id_, -32603, "Internal error")
        return {"jsonrpc": "2.0", "id": id_, "result": listed}
    if method == "tools/call":
        return _error(id_, -32603, "tool calls are disabled in the census testbed")
    return _error(id_, -32601, "Method not found", method)


async def _hold_stream(
    request: web.Request, headers: dict[str, str], ping: bool
) -> web.StreamResponse:
    """A GET stream that stays open (bounded by STREAM_CAP_S), sending nothing or pings."""
    resp = web.StreamResponse(status=200, headers={**_SSE_HEADERS, **headers})
    await resp.prepare(request)
    deadline = time.monotonic() + STREAM_CAP_S
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(15.0 if ping else STREAM_CAP_S)
            if ping:
                await resp.write(b": ping\r\n\r\n")
    except ConnectionError:  # the client went away: stop writing
        pass
    return resp


async def _handshake(
    request: web.Request, ep: Endpoint, body: bytes, headers: dict[str, str], state: McpState
) -> web.StreamResponse:
    prof = ep.profile
    err_id = "server-error" if prof.sdk1_errors else None
    sid = request.headers.get("Mcp-Session-Id")
    if request.method == "GET":
        if "text/event-stream" not in request.headers.get("Accept", ""):
            return _json(
                406,
                _error(err_id, -32600, "Not Acceptable: Client must accept text/event-stream"),
                headers,
            )
        if not prof.stateful:
            return await _hold_stream(request, headers, ping=False)
        if not sid:
            return _json(400, _error(err_id, -32600, "Bad Request: Missing session ID"), headers)
        if not state.has_session(ep, sid):
            return _json(404, _error(None, -32600, "Session not found"), headers)
        return await _hold_stream(request, {**headers, "mcp-session-id": sid}, ping=True)
    if request.method == "DELETE":
        if not prof.stateful:
            return _json(
                405,
                _error(err_id, -32600, "Method Not Allowed: Session termination not supported"),
                headers,
            )
        if not sid or not state.has_session(ep, sid):
            return _json(404, _error(None, -32600, "Session not found"), headers)
        state.end_session(ep, sid)
        return web.Response(
            status=200, headers={**headers, "mcp-session-id": sid}, content_type="application/json"
        )
    if request.method != "POST":
        return _json(
            405,
            _error(err_id, -32600, "Method Not Allowed"),
            {**headers, "Allow": "GET, POST, DELETE"},
        )
    if not request.headers.get("Content-Type", "").startswith("application/json"):
        return _plain(400, "Invalid Content-Type header", headers)
    if not _accepts(prof, request.headers.get("Accept", ""), prof.response == "sse"):
        need = (
            "application/json and text/event-stream"
            if prof.response == "sse"
            else "application/json"
        )
        return _json(
            406, _error(err_id, -32600, f"Not Acceptable: Client must accept {need}"), headers
        )
    try:
        msg = json.loads(body)
    except ValueError as exc:
        return _json(400, _error(err_id, -32700, f"Parse error: {exc}"), headers)
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        return _json(
            400, _error(err_id, -32602, "Validation error: not a JSON-RPC message"), headers
        )
    version = request.headers.get(_PROTOCOL_HEADER)
    is_init = msg.get("method") == "initialize"
    if prof.stateful and not is_init:
        if not sid:
            # The SDK mints (and then forgets) a session id even on this refusal.
            minted = state.new_session(ep, keep=False)
            return _json(
                400,
                _error(err_id, -32600, "Bad Request: Missing session ID"),
                {**headers, "mcp-session-id": minted},
            )
        if not state.has_session(ep, sid):
            return _json(404, _error(None, -32600, "Session not found"), headers)
    if version is not None and version not in HANDSHAKE_VERSIONS and not is_init:
        supported = ", ".join(v for v in HANDSHAKE_VERSIONS if v <= prof.latest_version)
        return _json(
            400,
            _error(
                err_id,
                -32600,
                f"Bad Request: Unsupported protocol version: "
                f"{version}. Supported versions: {supported}",
            ),
            headers,
        )
    out_headers = dict(headers)
    if prof.stateful:
        if is_init:
            sid = state.new_session(ep, keep=prof.behaviour != "session_broken")
        assert sid is not None
        out_headers["mcp-session-id"] = sid
    if "id" not in msg:
        return web.Response(status=202, headers=out_headers, content_type="application/json")
    raw_params = msg.get("params")
    params = raw_params if isinstance(raw_params, dict) else {}
    if msg.get("method") == "tools/list":
        raw = await _hostile_list(ep, msg.get("id"), request, params)
        if raw is not None:
            return raw
    await hostile.stall(prof, msg.get("method"), params)
    return _respond(prof, _dispatch_handshake(ep, msg), out_headers)


# --- HTTP+SSE (2024-11-05) ------------------------------------------------------------------


async def _legacy_get(
    request: web.Request, ep: Endpoint, headers: dict[str, str], state: McpState
) -> web.StreamResponse:
    sid = uuid.uuid4().hex
    channel = _LegacyChannel(endpoint=ep)
    state.channels[sid] = channel
    resp = web.StreamResponse(
        status=200,
        headers={
            **headers,
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "Connection": "keep-alive",
            "X-Accel-Buffering": "no",
        },
    )
    nl = b"\r\n" if ep.profile.crlf else b"\n"
    try:
        await resp.prepare(request)
        await resp.write(
            b"event: endpoint" + nl + b"data: " + hostile.legacy_endpoint(ep, sid) + nl + nl
        )
        deadline = time.monotonic() + STREAM_CAP_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                payload = await asyncio.wait_for(channel.queue.get(), timeout=min(15.0, left))
            except TimeoutError:
                await resp.write(b": ping - " + str(int(time.time())).encode() + nl + nl)
                continue
            await resp.write(b"event: message" + nl + b"data: " + payload + nl + nl)
    except ConnectionError:  # the client went away: stop writing
        pass
    finally:
        state.channels.pop(sid, None)
    return resp


async def handle_messages(
    request: web.Request, body: bytes, state: McpState
) -> tuple[web.StreamResponse, Endpoint | None]:
    """POST /messages/?session_id=… of an HTTP+SSE server: 202, the answer goes on the stream."""
    sid = request.query.get("session_id")
    if not sid:
        return _plain(400, "session_id is required"), None
    channel = state.channels.get(sid)
    if channel is None:
        return _plain(404, "Could not find session"), None
    try:
        msg = json.loads(body)
    except ValueError:
        return _plain(400, "Could not parse message"), channel.endpoint
    if isinstance(msg, dict) and "id" in msg and "method" in msg:
        prof = channel.endpoint.profile
        if prof.behaviour == "legacy_deep_json" and msg["method"] == "tools/list":
            payload = hostile.deep_tools_body(_dumps(msg["id"]), hostile.VERY_DEEP)
        else:
            answer = hostile.answer(prof, _dispatch_handshake(channel.endpoint, msg))
            payload = hostile.wire(prof, _dumps(answer))
        # Bounded: a client that never reads its stream loses answers.
        with contextlib.suppress(asyncio.QueueFull):
            channel.queue.put_nowait(payload)
    return _plain(202, "Accepted"), channel.endpoint


# --- entry point ----------------------------------------------------------------------------


async def handle_mcp(
    request: web.Request, ep: Endpoint, body: bytes, headers: dict[str, str], state: McpState
) -> web.StreamResponse:
    """Route one request to the era logic of a working endpoint (auth, CORS etc. done before)."""
    prof = ep.profile
    if prof.era == "legacy_sse":
        if request.method == "HEAD":
            return web.Response(
                status=200, headers={**headers, "Content-Type": "text/event-stream"}
            )
        if request.method == "GET":
            return await _legacy_get(request, ep, headers, state)
        return _plain(405, "Method Not Allowed", {**headers, "Allow": "HEAD, GET"})
    version = request.headers.get(_PROTOCOL_HEADER)
    if prof.era == "modern":
        return await _modern(request, ep, body, headers)
    if prof.era == "dual" and version is not None and version not in HANDSHAKE_VERSIONS:
        return await _modern(request, ep, body, headers)
    return await _handshake(request, ep, body, headers, state)
