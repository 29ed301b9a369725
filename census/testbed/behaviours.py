"""Everything an endpoint does besides speaking MCP: auth walls, OAuth metadata, CORS, rate-limit
headers, non-MCP HTTP answers and the hostile answers.

Hostile answers are bounded per connection: at most :data:`HOSTILE_CAP_S` seconds and
:data:`HOSTILE_CAP_BYTES` bytes, and they stop when the client disconnects.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from census.testbed import hostile
from census.testbed.expect import oauth_issuer
from census.testbed.model import Endpoint, Profile

__all__ = [
    "HOSTILE_CAP_BYTES",
    "HOSTILE_CAP_S",
    "RateCounter",
    "as_metadata",
    "auth_wall",
    "cors_headers",
    "http_behaviour",
    "preflight",
    "prm",
    "rate_headers",
]

HOSTILE_CAP_S = 90.0
HOSTILE_CAP_BYTES = 256 * 1024 * 1024
_ENFORCE_EVERY = 3  # every third MCP request in a window is answered 429
_ENFORCE_WINDOW_S = 60.0


def _origin(ep: Endpoint) -> str:
    parts = urlsplit(ep.url)
    return f"{parts.scheme}://{parts.netloc}"


def prm_url(ep: Endpoint) -> str:
    return f"{_origin(ep)}/.well-known/oauth-protected-resource{ep.path.rstrip('/') or ''}"


# --- auth -----------------------------------------------------------------------------------


def auth_wall(ep: Endpoint) -> web.Response:
    """The answer to a credential-less request at an auth-walled endpoint."""
    kind = ep.profile.auth
    if kind.startswith("oauth"):
        challenge = 'Bearer error="invalid_token", error_description="Authentication required"'
        if kind != "oauth_wellknown":
            url = prm_url(ep)
            if ep.profile.behaviour == "prm_userinfo":
                url = hostile.userinfo_url(url)  # a credential census must never send
            challenge += f', resource_metadata="{url}"'
        body = {"error": "invalid_token", "error_description": "Authentication required"}
        return web.json_response(body, status=401, headers={"WWW-Authenticate": challenge})
    if kind == "bearer":
        return web.json_response(
            {"error": "invalid_token", "error_description": "Missing Authorization header"},
            status=401,
            headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="Missing Authorization header"'
            },
        )
    if kind == "api_key_challenge":
        return web.json_response(
            {"error": "unauthorized"},
            status=401,
            headers={"WWW-Authenticate": 'ApiKey realm="mcp"'},
        )
    if kind == "api_key_body":
        return web.json_response(
            {"error": "Missing API key. Provide it in the X-API-Key header."}, status=401
        )
    if kind == "api_key_403":
        return web.json_response({"detail": "Missing API key"}, status=403)
    if kind == "fastapi_403":
        return web.json_response({"detail": "Not authenticated"}, status=403)
    if kind == "basic":
        return web.Response(
            status=401, text="Unauthorized", headers={"WWW-Authenticate": 'Basic realm="mcp"'}
        )
    return web.Response(status=401)


def prm(ep: Endpoint) -> dict[str, Any] | None:
    """RFC 9728 metadata served at the path-inserted well-known URL, None = 404."""
    kind = ep.profile.auth
    if kind not in (
        "oauth",
        "oauth_wellknown",
        "oauth_issuer_mismatch",
        "oauth_as_missing",
        "oauth_no_as",
    ):
        return None
    doc: dict[str, Any] = {
        "resource": ep.url,
        "scopes_supported": ["mcp:read"],
        "bearer_methods_supported": ["header"],
    }
    if kind != "oauth_no_as":
        doc["authorization_servers"] = [oauth_issuer(ep)]
    return doc


def as_metadata(ep: Endpoint) -> dict[str, Any] | None:
    """RFC 8414 metadata of the endpoint's authorization server, None = 404."""
    p = ep.profile
    if p.auth not in ("oauth", "oauth_wellknown", "oauth_issuer_mismatch"):
        return None
    issuer = oauth_issuer(ep)
    doc: dict[str, Any] = {
        "issuer": issuer + ("-other" if p.auth == "oauth_issuer_mismatch" else ""),
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
        "scopes_supported": ["mcp:read"],
    }
    if p.behaviour == "huge_as_metadata":
        # ~55 KiB before the keys the verdict needs: a reader capped at 16 KiB misses them.
        doc["scopes_supported"] = ["mcp:read", *(f"records:read:{i:05d}" for i in range(2500))]
    if p.oauth_dcr:
        doc["registration_endpoint"] = f"{issuer}/register"
    if p.oauth_cimd:
        doc["client_id_metadata_document_supported"] = True
    if p.oauth_pkce:
        doc["code_challenge_methods_supported"] = ["S256"]
    return doc


# --- CORS -----------------------------------------------------------------------------------


def cors_headers(prof: Profile, origin: str | None, host: str) -> dict[str, str]:
    if origin is None or prof.cors in ("none", "refused"):
        return {}
    if prof.cors == "wildcard":
        return {"Access-Control-Allow-Origin": "*"}
    if prof.cors == "restricted":
        return {"Access-Control-Allow-Origin": f"https://app.{host}", "Vary": "Origin"}
    out = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if prof.cors == "reflect_credentials":
        out["Access-Control-Allow-Credentials"] = "true"
    return out


def preflight(prof: Profile, origin: str | None, host: str) -> web.Response:
    if prof.cors == "none":
        return web.Response(
            status=405, text="Method Not Allowed", headers={"Allow": "GET, POST, DELETE"}
        )
    if prof.cors == "refused":
        return web.Response(status=400, text="Disallowed CORS origin")
    headers = cors_headers(prof, origin, host)
    headers.update(
        {
            "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization, Mcp-Session-Id, "
            "MCP-Protocol-Version, Mcp-Method, Mcp-Name",
            "Access-Control-Expose-Headers": "Mcp-Session-Id, WWW-Authenticate",
            "Access-Control-Max-Age": "600",
        }
    )
    return web.Response(status=200, text="OK", headers=headers)


# --- rate limits ----------------------------------------------------------------------------


@dataclass(slots=True)
class RateCounter:
    """Per-endpoint request counts for the ``enforced`` profile (deterministic, not timed)."""

    counts: dict[int, tuple[float, int]] = field(default_factory=dict)

    def hit(self, ep: Endpoint) -> bool:
        """Count one MCP request; True when it must be answered 429."""
        now = time.monotonic()
        start, n = self.counts.get(ep.index, (now, 0))
        if now - start > _ENFORCE_WINDOW_S:
            start, n = now, 0
        n += 1
        self.counts[ep.index] = (start, n)
        return n % _ENFORCE_EVERY == 0


def rate_headers(prof: Profile) -> dict[str, str]:
    if prof.rate == "ietf":
        return {"RateLimit-Policy": '"default";q=100;w=60', "RateLimit": '"default";r=97;t=42'}
    if prof.rate == "draft":
        return {"RateLimit-Limit": "100", "RateLimit-Remaining": "97", "RateLimit-Reset": "42"}
    if prof.rate == "x":
        return {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "97",
            "X-RateLimit-Reset": str(int(time.time()) + 42),
        }
    if prof.rate == "retry_after":
        return {"Retry-After": "30"}
    return {}


def too_many(headers: dict[str, str]) -> web.Response:
    body = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32000, "message": "rate limit exceeded"},
    }
    return web.json_response(body, status=429, headers={**headers, "Retry-After": "1"})


# --- non-MCP and hostile answers -------------------------------------------------------------

_LOGIN = (
    b"<!doctype html><html><head><title>Sign in</title></head><body><form method=post "
    b"action=/login><input name=user><input type=password name=pw><button>Sign in"
    b"</button></form></body></html>"
)


@cache
def _gzip_bomb() -> bytes:
    # 64 MiB of zeros compress to ~64 KiB; built once, on first use.
    return gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)


async def _stream(
    request: web.Request, resp: web.StreamResponse, chunk: bytes, interval: float
) -> web.StreamResponse:
    """Write ``chunk`` repeatedly until the caps or the client's disconnect."""
    await resp.prepare(request)
    deadline = time.monotonic() + HOSTILE_CAP_S
    sent = 0
    try:
        while time.monotonic() < deadline and sent < HOSTILE_CAP_BYTES:
            await resp.write(chunk)
            sent += len(chunk)
            if interval:
                await asyncio.sleep(interval)
    except ConnectionError:  # the client went away: stop writing
        pass
    return resp


async def http_behaviour(request: web.Request, ep: Endpoint) -> web.StreamResponse | None:
    """The answer of a non-MCP or hostile behaviour, None when the endpoint speaks MCP."""
    b = ep.profile.behaviour
    if b == "http_5xx":
        status = 502 if ep.index % 2 else 503
        return web.Response(
            status=status,
            content_type="text/html",
            text=f"<html><body><h1>{status} Bad Gateway</h1></body></html>",
        )
    if b in ("retry_after_503_nonascii", "retry_after_503_digits"):
        retry = "²" if b == "retry_after_503_nonascii" else "9" * 5000
        return web.Response(
            status=503,
            content_type="text/html",
            text="<html><body><h1>503 Service Unavailable</h1></body></html>",
            headers={"Retry-After": retry},
        )
    if b == "retry_after_429_nonascii":
        return web.json_response(
            {"error": "Too Many Requests"}, status=429, headers={"Retry-After": "²"}
        )
    if b == "always_429":
        return web.json_response(
            {"error": "Too Many Requests"}, status=429, headers={"Retry-After": "3600"}
        )
    if b == "http_404":
        return web.Response(
            status=404,
            content_type="text/html",
            text=f"<pre>Cannot {request.method} {ep.path}</pre>",
        )
    if b == "html_login":
        return web.Response(status=200, body=_LOGIN, content_type="text/html")
    if b == "json_api":
        return web.json_response(
            {"status": "ok", "data": [{"id": 1, "name": "example"}], "version": "v2"}
        )
    if b == "no_sse_405":
        return web.Response(status=405, text="Method Not Allowed", headers={"Allow": "OPTIONS"})
    if b == "host_421":
        return web.Response(status=421, text="Invalid Host header")
    if b == "redirect_private":
        return web.Response(status=307, headers={"Location": "http://10.20.30.40/mcp"})
    if b == "redirect_cross_origin":
        return web.Response(
            status=302, headers={"Location": "https://login.identity-provider.example/sso"}
        )
    if b == "redirect_loop":
        target = ep.path if "loop" in request.query else f"{ep.path}?loop=1"
        return web.Response(status=307, headers={"Location": target})
    if b == "huge_headers":
        headers = {f"X-Padding-{i}": "p" * 20_000 for i in range(4)}
        return web.Response(status=200, text="{}", headers=headers)
    if request.method != "POST":
        return None
    if b == "gzip_bomb":
        # Built once, off the event loop: a quarter second of CPU other endpoints must not feel.
        bomb = await asyncio.to_thread(_gzip_bomb)
        return web.Response(
            status=200,
            body=bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    if b == "endless_body":
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        return await _stream(request, resp, b'{"jsonrpc":"2.0","result":[' + b"0," * 32768, 0)
    if b == "endless_sse":
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
        return await _stream(request, resp, b": keepalive\r\n\r\n", 0.5)
    if b == "slow_drip":
        try:
            msg = json.loads(await request.read() or b"{}")
        except ValueError:
            msg = {}
        id_ = msg.get("id") if isinstance(msg, dict) else None
        answer = json.dumps({"jsonrpc": "2.0", "id": id_, "result": {}}).encode() * 64
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        deadline = time.monotonic() + HOSTILE_CAP_S
        try:
            for byte in answer:
                if time.monotonic() > deadline:
                    break
                await resp.write(bytes([byte]))
                await asyncio.sleep(1.0)
        except ConnectionError:  # the client went away: stop writing
            pass
        return resp
    return None
