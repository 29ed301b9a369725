"""The expected cells, established from raw HTTP exchanges with no census code involved.

`observe(url)` sends the exact requests below with plain aiohttp, keeps every exchange
(request line, the headers that matter, status, the headers that matter, a body snippet) and
reads the expected value of each census column off them by the rules written here:

- era: `server/discover` (2026-07-28 envelope) answered 2xx with a result listing 2026-07-28 →
  modern; `initialize` (2025-11-25) answered 2xx with a protocolVersion → handshake; both → dual;
  neither, and a GET with `Accept: text/event-stream` opened a stream whose first event is
  `endpoint` → legacy_sse (transport sse; the rest is asked over that session).
- server_name: the name in the discover result's `_meta` serverInfo when modern, else
  serverInfo.name of initialize.
- failure_reason: none for every server here (each answers healthy or auth_required).
- protocol_version: 2026-07-28 when modern, else what initialize answered.
- session: stateful when initialize answered an `Mcp-Session-Id`, else stateless; none for SSE.
- tool_count: the tools of `tools/list` (over the session, or with the modern envelope).
- auth: 401/403 to the MCP request → auth_required; a protected-resource document (RFC 9728:
  the challenge's `resource_metadata` link, else the path-inserted well-known location, else the
  root one, whose resource is then the origin) for this resource naming an authorization server
  whose RFC 8414 document answers → oauth; such a document without a working AS document, or
  for another resource → oauth_partial; no document and a bare Bearer challenge → bearer; an
  API-key challenge or error → api_key.
- cors_class: the preflight's Access-Control-Allow-Origin for a foreign Origin (absent → none,
  `*` → wildcard, the Origin → reflect, with credentials → reflect_credentials, else restricted).
- origin_validated: the MCP request again with a foreign Origin: 403 → true, 2xx → false.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
FOREIGN = "https://foreign.example"
CLIENT = {"name": "realworld-raw", "version": "1"}
KEEP_HEADERS = (
    "content-type",
    "mcp-session-id",
    "www-authenticate",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "location",
)


@dataclass
class Raw:
    url: str
    exchanges: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def transcript(self) -> str:
        return "\n".join(self.exchanges)


def _message(content_type: str, text: str) -> Any:
    """The JSON-RPC message of a JSON body or of an SSE stream's first `data:` event."""
    if "text/event-stream" in content_type:
        found = None
        for line in text.splitlines():
            if line.startswith("data:"):
                try:
                    found = json.loads(line[5:].strip())
                except ValueError:
                    continue
        return found
    try:
        return json.loads(text)
    except ValueError:
        return None


class _Recorder:
    def __init__(self, session: aiohttp.ClientSession, raw: Raw) -> None:
        self.session = session
        self.raw = raw

    async def send(
        self, method: str, url: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, dict[str, str], str, Any]:
        data = None if body is None else json.dumps(body)
        async with self.session.request(
            method, url, headers=headers, data=data, allow_redirects=False
        ) as resp:
            ctype = resp.headers.get("content-type", "")
            if "text/event-stream" in ctype:
                text = await _first_event(resp, body.get("id") if isinstance(body, dict) else None)
            else:
                text = (await resp.read())[:65536].decode(errors="replace")
            kept = {k: v for k, v in resp.headers.items() if k.lower() in KEEP_HEADERS}
            status = resp.status
        sent = {k: v for k, v in headers.items() if k != "Content-Type"}
        rpc = body.get("method") if isinstance(body, dict) else None
        # The message itself (an event stream's last `data:` line) is the snippet worth keeping.
        snippet = next(
            (x[5:].strip() for x in reversed(text.splitlines()) if x.startswith("data:")), text
        )
        self.raw.exchanges.append(
            f"> {method} {URL(url).path_qs}{f'  [{rpc}]' if rpc else ''}  {sent}\n"
            f"< {status} {kept}\n< {snippet[:400]!r}"
        )
        return status, {k.lower(): v for k, v in kept.items()}, text, _message(ctype, text)


async def _first_event(resp: aiohttp.ClientResponse, want_id: Any = None) -> str:
    """Read an event stream up to the first event whose data is a JSON-RPC message (with
    `want_id` when given: notifications and empty priming events come first on some servers),
    then stop; the text read so far is returned."""
    lines: list[str] = []
    data: list[str] = []
    async for raw_line in resp.content:
        line = raw_line.decode(errors="replace").rstrip("\r\n")
        lines.append(line)
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            try:
                message = json.loads("\n".join(data))
            except ValueError:
                message = None
            data = []
            if "event: endpoint" in lines:
                break
            if isinstance(message, dict) and (want_id is None or message.get("id") == want_id):
                break
    return "\n".join(lines)


def _modern(method: str, rpc_id: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": CLIENT,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {
        "jsonrpc": "2.0",
        "id": rpc_id,
        "method": method,
        "params": {**(params or {}), "_meta": meta},
    }


def _modern_headers(method: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Accept": ACCEPT,
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }


def _initialize(rpc_id: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rpc_id,
        "method": "initialize",
        "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": CLIENT},
    }


HANDSHAKE_HEADERS = {"Content-Type": "application/json", "Accept": ACCEPT}


def _result(message: Any) -> dict[str, Any] | None:
    result = message.get("result") if isinstance(message, dict) else None
    return result if isinstance(result, dict) else None


async def observe(url: str) -> Raw:
    raw = Raw(url)
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        rec = _Recorder(session, raw)
        await _observe(rec, url, raw.facts)
    return raw


async def _observe(rec: _Recorder, url: str, facts: dict[str, Any]) -> None:
    d_status, _, _, d_msg = await rec.send(
        "POST", url, _modern_headers("server/discover"), _modern("server/discover", 1)
    )
    d_result = _result(d_msg) if 200 <= d_status < 300 else None
    modern = bool(d_result and MODERN in (d_result.get("supportedVersions") or []))
    i_status, i_headers, _, i_msg = await rec.send("POST", url, HANDSHAKE_HEADERS, _initialize(2))
    i_result = _result(i_msg) if 200 <= i_status < 300 else None
    handshake = bool(i_result and isinstance(i_result.get("protocolVersion"), str))
    if not (modern or handshake):
        if i_status in (401, 403) or d_status in (401, 403):
            facts.update(
                status="auth_required",
                failure_reason=None,
                server_name=None,
                era=None,
                transport=None,
                session=None,
                protocol_version=None,
                tool_count=None,
            )
            wall = i_headers if i_status in (401, 403) else {}
            facts["auth_class"] = await _auth(rec, url, wall)
            facts["cors_class"] = await _cors(rec, url)
            facts["origin_validated"] = None
            return
        await _legacy(rec, url, facts)
        return
    facts.update(
        status="healthy", failure_reason=None, transport="streamable_http", auth_class="none"
    )
    if modern:
        meta = (d_result or {}).get("_meta")
        info = meta.get("io.modelcontextprotocol/serverInfo") if isinstance(meta, dict) else None
    else:
        info = (i_result or {}).get("serverInfo")
    facts["server_name"] = info.get("name") if isinstance(info, dict) else None
    facts["era"] = "dual" if modern and handshake else "modern" if modern else "handshake"
    facts["protocol_version"] = MODERN if modern else i_result["protocolVersion"]  # type: ignore[index]
    session_id = i_headers.get("mcp-session-id")
    facts["session"] = "stateful" if handshake and session_id else "stateless"
    if modern:
        _, _, _, t_msg = await rec.send(
            "POST", url, _modern_headers("tools/list"), _modern("tools/list", 3)
        )
    else:
        version = i_result["protocolVersion"]  # type: ignore[index]
        headers = {**HANDSHAKE_HEADERS, "MCP-Protocol-Version": version}
        if session_id:
            headers["Mcp-Session-Id"] = session_id
        await rec.send(
            "POST", url, headers, {"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        _, _, _, t_msg = await rec.send(
            "POST", url, headers, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}
        )
    tools = (_result(t_msg) or {}).get("tools")
    facts["tool_count"] = len(tools) if isinstance(tools, list) else None
    facts["cors_class"] = await _cors(rec, url)
    if modern:
        o_status, *_ = await rec.send(
            "POST",
            url,
            {**_modern_headers("server/discover"), "Origin": FOREIGN},
            _modern("server/discover", 4),
        )
    else:
        o_status, *_ = await rec.send(
            "POST", url, {**HANDSHAKE_HEADERS, "Origin": FOREIGN}, _initialize(4)
        )
    facts["origin_validated"] = (
        True if o_status == 403 else False if 200 <= o_status < 300 else None
    )


async def _cors(rec: _Recorder, url: str) -> str:
    status, headers, _, _ = await rec.send(
        "OPTIONS",
        url,
        {
            "Origin": FOREIGN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,mcp-protocol-version,mcp-session-id",
        },
    )
    allowed = headers.get("access-control-allow-origin", "").strip()
    if status >= 400 or not allowed:
        return "none"
    if allowed == "*":
        return "wildcard"
    if allowed == FOREIGN:
        creds = headers.get("access-control-allow-credentials", "").lower() == "true"
        return "reflect_credentials" if creds else "reflect"
    return "restricted"


async def _auth(rec: _Recorder, url: str, wall: dict[str, str]) -> str:
    challenge = wall.get("www-authenticate", "")
    parsed = URL(url)
    origin = parsed.with_path("/").with_query(None)
    # RFC 9728 discovery as MCP clients do it: the challenge's resource_metadata link, else the
    # path-inserted well-known document, else the root one (whose resource is then the origin,
    # RFC 9728 §3.1/§3.3: the identifier the suffix was inserted into).
    if "resource_metadata=" in challenge:
        link = challenge.split("resource_metadata=", 1)[1].split(",")[0].strip().strip('"')
        candidates = [(link, {str(parsed)})]
    else:
        candidates = [
            (
                str(origin.with_path("/.well-known/oauth-protected-resource" + parsed.path)),
                {str(parsed)},
            ),
            (
                str(origin.with_path("/.well-known/oauth-protected-resource")),
                {str(origin), str(origin).rstrip("/")},
            ),
        ]
    prm: Any = None
    for prm_url, resources in candidates:
        status, _, text, _ = await rec.send("GET", prm_url, {"Accept": "application/json"})
        if status == 200:
            prm = json.loads(text)
            if not (isinstance(prm, dict) and prm.get("resource") in resources):
                return "oauth_partial"  # a document for another resource
            break
    issuers = prm.get("authorization_servers") if isinstance(prm, dict) else None
    if issuers:
        issuer = URL(issuers[0])
        if issuer.host not in ("127.0.0.1", "localhost"):
            return "oauth_partial"  # an authorization server off this machine is never asked
        as_url = str(
            issuer.with_path("/.well-known/oauth-authorization-server" + issuer.path.rstrip("/"))
        )
        as_status, _, as_text, _ = await rec.send("GET", as_url, {"Accept": "application/json"})
        return "oauth" if as_status == 200 and "issuer" in as_text else "oauth_partial"
    if prm is not None:
        return "oauth_partial"
    if "api key" in challenge.lower() or "api-key" in challenge.lower():
        return "api_key"
    if challenge.lower().startswith("bearer"):
        return "bearer"
    return "api_key" if "api key" in str(rec.raw.exchanges[-2:]).lower() else "other_auth"


async def _legacy(rec: _Recorder, url: str, facts: dict[str, Any]) -> None:
    """HTTP+SSE: open the stream, read `endpoint`, initialize and list over it."""
    facts.update(status=None, era=None, transport=None, session=None, auth_class=None)
    session = rec.session
    async with session.get(url, headers={"Accept": "text/event-stream"}) as stream:
        ctype = stream.headers.get("content-type", "")
        first = await _first_event(stream) if "text/event-stream" in ctype else ""
        rec.raw.exchanges.append(
            f"> GET {URL(url).path} (Accept: text/event-stream)\n"
            f"< {stream.status} {ctype!r}\n< {first[:300]!r}"
        )
        if "event: endpoint" not in first:
            facts["status"] = "not_mcp"
            return
        target = next(x[5:].strip() for x in first.splitlines() if x.startswith("data:"))
        post_url = str(URL(url).join(URL(target)))
        answers: dict[int, Any] = {}

        async def post(body: dict[str, Any]) -> None:
            await rec.send("POST", post_url, {"Content-Type": "application/json"}, body)

        async def wait_for(rpc_id: int) -> Any:
            while rpc_id not in answers:
                event = await _first_event(stream)
                message = _message("text/event-stream", event)
                if isinstance(message, dict) and "id" in message:
                    answers[message["id"]] = message
            rec.raw.exchanges.append(f"< (stream) {json.dumps(answers[rpc_id])[:300]!r}")
            return answers[rpc_id]

        await post(_initialize(1))
        init = _result(await wait_for(1)) or {}
        await post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        await post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = (_result(await wait_for(2)) or {}).get("tools")
    info = init.get("serverInfo")
    facts.update(
        status="healthy",
        failure_reason=None,
        era="legacy_sse",
        transport="sse",
        session=None,
        server_name=info.get("name") if isinstance(info, dict) else None,
        auth_class="none",
        protocol_version=init.get("protocolVersion"),
        tool_count=len(tools) if isinstance(tools, list) else None,
    )
    facts["cors_class"] = await _cors(rec, url)
    async with session.get(url, headers={"Accept": "text/event-stream", "Origin": FOREIGN}) as o:
        rec.raw.exchanges.append(f"> GET {URL(url).path} Origin: {FOREIGN}\n< {o.status}")
        status = o.status
    facts["origin_validated"] = True if status == 403 else False if 200 <= status < 300 else None
