"""A reference mini-prober for the testbed tests: raw requests → the vocabulary's columns.

It is deliberately simple and independent of census.probe: it shows that each planted profile
really produces, on the wire, the evidence its manifest row claims.
"""

from __future__ import annotations

import contextvars
import ipaddress
import itertools
import json
import re
import time
import zlib
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from multidict import CIMultiDict

from census.testbed import Testbed
from tests.testbed import rawclient as rc

CAP = 2_000_000
#: At most this many items per list (the census's own cap): one page of more is list_failed.
ITEM_CAP = 1_000
#: The listings of one endpoint must finish within this many seconds (this mini-prober's
#: target deadline; shorter than the census's 60 s, the stalling profile outlasts both).
LIST_DEADLINE = 25.0
#: At most this many pages per list (the census's own cap).
MAX_PAGES = 20
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


class DeadlinePassed(Exception):
    """The listings did not finish before LIST_DEADLINE."""


class BodyTimeout(Exception):
    """Headers arrived, the body did not finish in time."""


def _note(r: aiohttp.ClientResponse) -> None:
    seen = _SEEN.get(set())
    if r.status == 429:
        seen.add("429")
    if any(h in r.headers for h in _RATE_HEADERS):
        seen.add("advertised")


def _failure(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        _SEEN.get(set()).add("cert_invalid")
        return "tls_error"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        return "tls_error"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect_timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return "dns_error"
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connect_refused"
        if isinstance(exc.os_error, ConnectionResetError):
            return "connection_reset"
        return f"connector:{exc!r}"
    if isinstance(exc, aiohttp.ServerDisconnectedError | ConnectionResetError):
        return "connection_reset"
    if isinstance(exc, aiohttp.ClientOSError) and "reset" in str(exc).lower():
        return "connection_reset"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return "protocol_error"
    return f"other:{exc!r}"


async def _post_raw(
    s: aiohttp.ClientSession,
    url: str,
    msg: dict[str, Any],
    modern: bool,
    extra: dict[str, str] | None = None,
) -> tuple[int, CIMultiDict[str], bytes, bool]:
    hdrs = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if modern:
        hdrs.update({"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": msg["method"]})
        msg = {**msg, "params": {**msg.get("params", {}), "_meta": rc.DISCOVER_META}}
    hdrs.update(extra or {})
    for _attempt in range(2):
        async with s.post(url, data=json.dumps(msg), headers=hdrs, allow_redirects=False) as r:
            _note(r)
            if r.status == 429 and _attempt == 0 and r.headers.get("Retry-After") == "1":
                continue  # the enforced profile: every third request; the retry passes
            try:
                body = await _read_capped(r)
            except TimeoutError as exc:
                raise BodyTimeout from exc
            break
    if True:
        big = len(body) > CAP
        if r.headers.get("Content-Encoding") == "gzip":
            inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, CAP + 1)
            big = len(inflated) > CAP
        return r.status, CIMultiDict(r.headers), body, big


async def _read_capped(r: aiohttp.ClientResponse) -> bytes:
    chunks, size = [], 0
    while size <= CAP:
        chunk = await r.content.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _messages(headers: CIMultiDict[str], body: bytes) -> list[dict[str, Any]]:
    try:
        return rc.parse_body(headers.get("Content-Type", ""), body)
    except (ValueError, RecursionError):
        return []


async def _list_all(
    s: aiohttp.ClientSession,
    url: str,
    method: str,
    key: str,
    modern: bool,
    extra: dict[str, str],
    deadline: float,
) -> tuple[int | None, str]:
    """(count, failure) of one paginated listing."""
    total, cursor, seen = 0, None, set()
    for page in range(MAX_PAGES):
        if time.monotonic() > deadline:
            raise DeadlinePassed
        params: dict[str, Any] = {"cursor": cursor} if cursor else {}
        try:
            _status, headers, body, big = await _post_raw(
                s, url, rc.request(method, 100 + page, params), modern, extra
            )
        except Exception as exc:
            return None, _failure(exc)
        if big:
            return None, "body_too_large"
        try:
            body.decode("utf-8")
            msgs = _messages(headers, body)
        except (UnicodeDecodeError, RecursionError):
            return None, "protocol_error"
        answer = next((m for m in msgs if "id" in m), None)
        if answer is None:
            return None, "protocol_error"
        if "error" in answer:
            if answer["error"]["code"] == -32601:
                return None, "absent"
            return None, "list_failed"
        if answer["id"] != 100 + page:  # a result for another request: not ours to count
            return None, "protocol_error"
        total += len(answer["result"][key])
        if total > ITEM_CAP:
            return None, "list_failed"
        cursor = answer["result"].get("nextCursor")
        if not cursor:
            return total, ""
        if cursor in seen:
            return None, "list_failed"
        seen.add(cursor)
    return None, "list_failed"


class InvalidEndpoint(Exception):
    """The HTTP+SSE endpoint event names no usable URL (an MCP signal, but a broken one)."""


def _same_origin_endpoint(url: str, data: str) -> str | None:
    """The endpoint event's URL resolved against ``url``, userinfo dropped; None when it is
    of another origin (refused)."""
    try:
        target = urlsplit(urljoin(url, data))
        base = urlsplit(url)
        if (target.scheme, target.hostname, target.port) != (base.scheme, base.hostname, base.port):
            return None
    except ValueError as exc:  # not a URL (unclosed IPv6 bracket, port out of range)
        raise InvalidEndpoint from exc
    netloc = target.netloc.rpartition("@")[2]
    return target._replace(netloc=netloc).geturl()


async def _legacy(s: aiohttp.ClientSession, url: str) -> dict[str, str] | None:
    async with s.get(url, headers={"Accept": "text/event-stream"}) as r:
        if r.status != 200 or not r.headers.get("Content-Type", "").startswith("text/event-stream"):
            return None
        endpoint = None
        event = None
        async for raw in r.content:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "endpoint":
                endpoint = _same_origin_endpoint(url, line[5:].strip())
                break
        if endpoint is None:
            return None
        answers: dict[int, dict[str, Any]] = {}
        ids = itertools.count(10)

        async def call(msg: dict[str, Any]) -> dict[str, Any]:
            async with s.post(endpoint, json=msg) as p:
                assert p.status == 202
            while msg["id"] not in answers:
                try:
                    line = (await r.content.readline()).decode().rstrip("\r\n")
                    if line.startswith("data:"):
                        obj = json.loads(line[5:])
                        answers[obj["id"]] = obj
                except (ValueError, RecursionError):  # over-long line, absurd nesting
                    return {"unreadable": True}
            return answers[msg["id"]]

        init = (await call(rc.initialize("2024-11-05")))["result"]
        out = {
            "era": "legacy_sse",
            "transport": "sse",
            "protocol_version": init["protocolVersion"],
            "server_name": init["serverInfo"]["name"],
        }
        for method, key, col in (
            ("tools/list", "tools", "tool_count"),
            ("resources/list", "resources", "resource_count"),
            ("prompts/list", "prompts", "prompt_count"),
        ):
            total, cursor = 0, None
            while True:
                ans = await call(
                    rc.request(method, next(ids), {"cursor": cursor} if cursor else {})
                )
                if "unreadable" in ans:
                    out[col] = ""
                    out.setdefault("failure_reason", "protocol_error")
                    break
                if "error" in ans:
                    out[col] = ""
                    break
                total += len(ans["result"][key])
                cursor = ans["result"].get("nextCursor")
                if not cursor:
                    out[col] = str(total)
                    break
        return out


async def _auth(
    s: aiohttp.ClientSession, url: str, status: int, headers: CIMultiDict[str], body: bytes
) -> dict[str, str]:
    out = {"status": "auth_required"}
    challenge = headers.get("WWW-Authenticate", "")
    text = body.decode(errors="replace").lower()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    prm_url = None
    if "resource_metadata=" in challenge:
        prm_url = challenge.split('resource_metadata="')[1].split('"')[0]
        named = urlsplit(prm_url)
        prm_url = named._replace(netloc=named.netloc.rpartition("@")[2]).geturl()
    candidates = [prm_url] if prm_url else []
    candidates.append(f"{origin}/.well-known/oauth-protected-resource{urlsplit(url).path}")
    prm = None
    for cand in candidates:
        async with s.get(cand) as r:
            if r.status == 200:
                prm = await r.json()
                break
    if prm is None and not prm_url:
        if challenge.lower().startswith("bearer"):
            out["auth_class"] = "bearer"
        elif "apikey" in challenge.lower() or "api key" in text or "api-key" in text:
            out["auth_class"] = "api_key"
        else:
            out["auth_class"] = "other_auth"
        return out
    out["auth_class"] = "oauth_partial"
    if prm is None or not prm.get("authorization_servers"):
        return out
    issuer = prm["authorization_servers"][0]
    parts = urlsplit(issuer)
    meta_url = f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{parts.path}"
    async with s.get(meta_url) as r:
        if r.status != 200:
            return out
        meta = await r.json()
    out["oauth_issuer"] = meta["issuer"]
    out["oauth_dcr"] = str("registration_endpoint" in meta).lower()
    out["oauth_cimd"] = str(bool(meta.get("client_id_metadata_document_supported"))).lower()
    out["oauth_pkce_s256"] = str("S256" in meta.get("code_challenge_methods_supported", [])).lower()
    if meta["issuer"] == issuer:
        out["auth_class"] = "oauth"
    return out


async def _cors(s: aiohttp.ClientSession, url: str, modern: bool) -> dict[str, str]:
    foreign = "https://probe.invalid"
    async with s.options(
        url, headers={"Origin": foreign, "Access-Control-Request-Method": "POST"}
    ) as r:
        acao = r.headers.get("Access-Control-Allow-Origin")
        creds = r.headers.get("Access-Control-Allow-Credentials") == "true"
    if acao is None:
        cls = "none"
    elif acao == "*":
        cls = "wildcard"
    elif acao == foreign:
        cls = "reflect_credentials" if creds else "reflect"
    else:
        cls = "restricted"
    return {"cors_class": cls}


_SEEN: contextvars.ContextVar[set[str]] = contextvars.ContextVar("seen")
_RATE_HEADERS = (
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "x-ratelimit-limit",
    "retry-after",
)
_ANSWERED = ("healthy", "degraded", "auth_required", "not_mcp", "http_error")


async def observe(tb: Testbed, url: str) -> dict[str, str]:
    """The columns this mini-prober can establish for one endpoint."""
    seen: set[str] = set()
    _SEEN.set(seen)
    out = await _observe(tb, url)
    if out["status"] in _ANSWERED:
        out["tls"] = "none" if url.startswith("http:") else "valid"
        if "429" in seen:
            out["rate_limit_class"] = "enforced"
        elif "advertised" in seen:
            out["rate_limit_class"] = "advertised"
        else:
            out["rate_limit_class"] = "none_observed"
    elif out.get("failure_reason") == "tls_error":
        out["tls"] = "invalid" if "cert_invalid" in seen else ""
    return out


async def _observe(tb: Testbed, url: str) -> dict[str, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "{" in url or ":99999" in url:
        return {"status": "skipped", "failure_reason": "invalid_url"}
    try:
        parts.port  # noqa: B018
    except ValueError:
        return {"status": "skipped", "failure_reason": "invalid_url"}
    ip = tb.resolve(host)
    if ip is not None and not ipaddress.ip_address(ip).is_loopback:
        return {"status": "skipped", "failure_reason": "private_address"}
    if host in (tb.out_dir / "optouts.txt").read_text().split():
        return {"status": "skipped", "failure_reason": "opted_out"}
    out: dict[str, str] = {}
    async with rc.session(tb, timeout=8.0) as s:
        try:
            status, headers, body, big = await _post_raw(
                s, url, rc.request("server/discover", 1), modern=True
            )
        except BodyTimeout:
            return {"status": "not_mcp", "failure_reason": "timeout"}
        except Exception as exc:
            reason = _failure(exc)
            verdict = "not_mcp" if reason == "protocol_error" else "unreachable"
            return {"status": verdict, "failure_reason": reason}
        hops = 0
        while status in (301, 302, 307, 308) and hops < 5:
            tparts = urlsplit(urljoin(url, headers["Location"]))
            tparts = tparts._replace(netloc=tparts.netloc.rpartition("@")[2])  # never sent
            target = tparts.geturl()
            if tparts.hostname and not tb.resolve(tparts.hostname) and tparts.hostname[0].isdigit():
                return {"status": "not_mcp", "failure_reason": "private_address"}
            if (tparts.scheme, tparts.netloc) != (parts.scheme, parts.netloc) or status in (
                301,
                302,
            ):
                return {"status": "not_mcp", "failure_reason": "redirect_refused"}
            url, hops = target, hops + 1
            status, headers, body, big = await _post_raw(
                s, url, rc.request("server/discover", 1), modern=True
            )
        if hops >= 5:
            return {"status": "not_mcp", "failure_reason": "redirect_refused"}
        if big:
            return {"status": "not_mcp", "failure_reason": "body_too_large"}
        if status in (401, 403):
            return await _auth(s, url, status, headers, body)
        if status == 429:
            return {"status": "http_error", "failure_reason": "http_429"}
        if status >= 500:
            return {"status": "http_error", "failure_reason": "http_5xx"}
        modern = None
        unusable = False  # a JSON-RPC answer that is not a valid answer to our request
        msgs = _messages(headers, body)
        ans = next((m for m in msgs if "id" in m), None)
        if status == 200 and ans and "result" in ans:
            if ans["id"] == 1:
                modern = ans["result"]
            else:
                unusable = True
        init = None
        init_status, init_headers, init_body, _ = await _post_raw(s, url, rc.initialize(), False)
        imsgs = _messages(init_headers, init_body)
        ians = next((m for m in imsgs if "id" in m), None)
        if init_status == 200 and ians and "result" in ians:
            if ians["id"] == 1:
                init = ians["result"]
            else:
                unusable = True
        version = (init or {}).get("protocolVersion")
        # A version that is no visible-ASCII token cannot be echoed in a header: the era stands,
        # the answer is a protocol error, and no list is made over that session.
        version_invalid = init is not None and not (
            isinstance(version, str) and _VERSION.fullmatch(version)
        )
        if modern is None and init is None:
            try:
                legacy = (
                    await _legacy(s, url) if init_status in (404, 405) and status == 405 else None
                )
            except InvalidEndpoint:
                return {"status": "degraded", "failure_reason": "protocol_error"}
            if legacy is None:
                if unusable:
                    return {"status": "not_mcp", "failure_reason": "protocol_error"}
                ctype = init_headers.get("Content-Type", "")
                if init_status == 404:
                    return {"status": "not_mcp", "failure_reason": "http_404"}
                if 400 <= init_status < 500:
                    return {"status": "not_mcp", "failure_reason": "http_4xx"}
                if not ctype.startswith("application/json"):
                    return {"status": "not_mcp", "failure_reason": "not_json"}
                return {"status": "not_mcp", "failure_reason": "not_jsonrpc"}
            out.update(legacy)
            out["status"] = "degraded" if "failure_reason" in legacy else "healthy"
            return out
        out["status"] = "healthy"
        out["era"] = "dual" if modern and init else ("modern" if modern else "handshake")
        first: dict[str, Any] = modern or init or {}
        out["protocol_version"] = (
            "2026-07-28"
            if modern
            else str(first["protocolVersion"]).encode("unicode_escape").decode("ascii")
        )
        if init is not None:
            out["session"] = "stateful" if "Mcp-Session-Id" in init_headers else "stateless"
        info = (
            first["_meta"]["io.modelcontextprotocol/serverInfo"] if modern else first["serverInfo"]
        )
        out["server_name"] = info["name"]
        caps = (modern or init or {})["capabilities"]
        extra: dict[str, str] = {}
        if not modern and "Mcp-Session-Id" in init_headers:
            extra = {
                "Mcp-Session-Id": init_headers["Mcp-Session-Id"],
                "MCP-Protocol-Version": out["protocol_version"],
            }
        failure = "protocol_error" if version_invalid else ""
        deadline = time.monotonic() + LIST_DEADLINE
        for cap, method, key, col in (
            ("tools", "tools/list", "tools", "tool_count"),
            ("resources", "resources/list", "resources", "resource_count"),
            ("prompts", "prompts/list", "prompts", "prompt_count"),
        ):
            if cap not in caps or version_invalid:
                out[col] = ""
                continue
            try:
                count, why = await _list_all(s, url, method, key, bool(modern), extra, deadline)
            except DeadlinePassed:
                # Like the census's target deadline: the probe ends here, nothing after it.
                out[col] = ""
                out["status"], out["failure_reason"] = "degraded", "timeout"
                out["cors_class"] = out["origin_validated"] = ""
                return out
            out[col] = "" if count is None else str(count)
            if why and not failure:
                failure = why
        if failure:
            out["status"], out["failure_reason"] = "degraded", failure
        out.update(await _cors(s, url, bool(modern)))
        try:
            st, _, _, _ = await _post_raw(
                s,
                url,
                rc.request("tools/list", 999),
                bool(modern),
                {**extra, "Origin": "https://probe.invalid"},
            )
        except TimeoutError:
            st = 0
        out["origin_validated"] = "true" if st == 403 else "false"
    return out
