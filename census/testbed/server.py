"""One aiohttp server for the whole simulated internet, listening on each host's own address.

Dispatch is on (local address, path): every host has its own 127.x.y.z, so the address names the
host even when a client sends an IP literal or a wrong ``Host``.  The request log records every
request (see :class:`RequestRecord`).  Transport-level behaviours (blackhole, reset, full accept
queue) are raw asyncio protocols on their host's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from aiohttp import web

from census.testbed import behaviours as bh
from census.testbed.flapping import FLAPS, Visits, flap_answer
from census.testbed.hostile import userinfo_url
from census.testbed.mcp import McpState, handle_mcp, handle_messages
from census.testbed.model import Endpoint, HostEntry, World
from census.testbed.plants import at_epoch

__all__ = ["RequestRecord", "VirtualInternet"]

_MAX_BODY = 1024 * 1024
#: Behaviours whose URL ends in "/" and answer 307 to the same path without it.
_SLASH_REDIRECTS = frozenset({"slash_redirect", "redirect_userinfo"})


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the testbed received."""

    time: float  # UNIX time of arrival
    host: str  # the virtual host (by local address)
    endpoint: str | None  # the endpoint URL it addressed, None for other paths
    path: str
    http_method: str
    jsonrpc_method: str | None
    user_agent: str | None
    origin: str | None
    authorization: bool  # an Authorization header was present
    accept: str | None
    protocol_version: str | None  # MCP-Protocol-Version header
    session: bool  # an Mcp-Session-Id header was present
    status: int | None  # the HTTP status answered (None if the handler was cut short)
    profile: str | None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def _jsonrpc_method(body: bytes) -> str | None:
    if not body or body[:1] not in (b"{", b"["):
        return None
    try:
        msg = json.loads(body)
    except ValueError:
        return None
    if isinstance(msg, dict) and isinstance(msg.get("method"), str):
        return str(msg["method"])
    return None


class _Blackhole(asyncio.Protocol):
    """Accepts and never answers; closes after a cap so the testbed never leaks connections."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(bh.HOSTILE_CAP_S, transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._timer.cancel()


class _Reset(asyncio.Protocol):
    """Answers the first bytes with a TCP reset (SO_LINGER 0, then close)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        if isinstance(self._transport, asyncio.WriteTransport):
            self._transport.abort()
        else:
            self._transport.close()


class _TlsAlert(asyncio.Protocol):
    """Answers the ClientHello with a fatal handshake_failure alert, then closes."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if isinstance(self._transport, asyncio.WriteTransport):
            # TLS record: alert (21), TLS 1.2, length 2, level fatal (2), handshake_failure (40)
            self._transport.write(b"\x15\x03\x03\x00\x02\x02\x28")
        self._transport.close()


class VirtualInternet:
    """The HTTP side of a world: build with a world, ``await start(...)``, ``await stop()``."""

    def __init__(self, world: World, tls_context: ssl.SSLContext) -> None:
        self.world = world
        self.log: list[RequestRecord] = []
        self._tls = tls_context
        self._routes: dict[tuple[str, str], Endpoint] = {}
        self._by_ip: dict[str, HostEntry] = {}
        self._state = McpState()
        self._rates = bh.RateCounter()
        self._visits = Visits()
        self._as_index: dict[str, Endpoint] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._raw_sockets: list[socket.socket] = []
        self._runner: web.AppRunner | None = None
        for h in world.hosts.values():
            if h.ip is not None and h.ip.startswith("127."):
                self._by_ip[h.ip] = h
        for ep in world.endpoints:
            self._routes[(ep.host, ep.path)] = ep
            if ep.profile.behaviour in _SLASH_REDIRECTS:
                self._routes[(ep.host, ep.path.rstrip("/"))] = ep
            self._as_index[f"/.well-known/oauth-authorization-server/oauth/t{ep.index}"] = ep

    # --- epochs ---------------------------------------------------------------------------

    def set_epoch(self, epoch: int) -> None:
        """Serve every rug-pull endpoint as it is in ``epoch`` (1 = as generated).

        The URLs stay the same (a rug pull is the same server changing under its clients):
        only the routed :class:`Endpoint` is swapped for one whose profile is at ``epoch``.
        """
        for ep in self.world.endpoints:
            if ep.profile.rug_pull:
                changed = replace(ep, profile=at_epoch(ep.profile, epoch))
                self._routes[(ep.host, ep.path)] = changed

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, tls_port: int, plain_port: int, backlog: int = 64) -> None:
        """Bind every host's address (ports already reserved on the first address)."""
        app = web.Application(client_max_size=_MAX_BODY, handler_args={"max_field_size": 16384})
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        for h in self._by_ip.values():
            port = plain_port if h.tls == "plain" else tls_port
            if h.listen == "http":
                sock = _bind(h.ip or "", port, backlog)
                ctx = None if h.tls == "plain" else self._tls
                self._servers.append(await loop.create_server(server, sock=sock, ssl=ctx))
            elif h.listen == "blackhole":
                sock = _bind(h.ip or "", port, backlog)
                self._servers.append(await loop.create_server(_Blackhole, sock=sock))
            elif h.listen == "reset":
                sock = _bind(h.ip or "", port, backlog)
                self._servers.append(await loop.create_server(_Reset, sock=sock))
            elif h.listen == "tls_alert":
                sock = _bind(h.ip or "", port, backlog)
                self._servers.append(await loop.create_server(_TlsAlert, sock=sock))
            elif h.listen == "connect_timeout":
                self._raw_sockets.extend(_full_queue(h.ip or "", port))

    async def stop(self) -> None:
        for srv in self._servers:
            srv.close()
        for sock in self._raw_sockets:
            sock.close()
        if self._runner is not None:
            await self._runner.shutdown()
            await self._runner.cleanup()
        for srv in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(srv.wait_closed(), 2.0)
        self._servers.clear()

    # --- dispatch -------------------------------------------------------------------------

    def _host_of(self, request: web.Request) -> HostEntry | None:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        return self._by_ip.get(sockname[0]) if sockname else None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = self._host_of(request)
        try:
            body = await request.read() if request.can_read_body else b""
            too_large = False
        except web.HTTPRequestEntityTooLarge:  # bodies are capped at 1 MiB
            body, too_large = b"", True
        ep = self._routes.get((host.name, request.path)) if host else None
        record: dict[str, Any] = {
            "time": time.time(),
            "host": host.name if host else "",
            "endpoint": ep.url if ep else None,
            "path": request.path,
            "http_method": request.method,
            "jsonrpc_method": _jsonrpc_method(body),
            "user_agent": request.headers.get("User-Agent"),
            "origin": request.headers.get("Origin"),
            "authorization": "Authorization" in request.headers,
            "accept": request.headers.get("Accept"),
            "protocol_version": request.headers.get("MCP-Protocol-Version"),
            "session": "Mcp-Session-Id" in request.headers,
            "status": None,
            "profile": ep.profile.name if ep else None,
        }
        try:
            if too_large:
                resp: web.StreamResponse = web.Response(status=413, text="Request body too large")
            else:
                resp = await self._answer(request, host, ep, body, record)
            record["status"] = resp.status
            return resp
        finally:
            self.log.append(RequestRecord(**record))

    async def _answer(
        self,
        request: web.Request,
        host: HostEntry | None,
        ep: Endpoint | None,
        body: bytes,
        record: dict[str, Any],
    ) -> web.StreamResponse:
        if host is None:
            return web.Response(status=404, text="Not Found")
        if ep is None:
            return await self._other_path(request, host, body, record)
        prof = ep.profile
        if prof.behaviour not in ("gzip_bomb", "endless_body", "endless_sse", "slow_drip"):
            await asyncio.sleep(prof.latency_ms / 1000)
        if prof.behaviour in _SLASH_REDIRECTS and request.path == ep.path:
            location = f"{ep.scheme}://{request.host}{ep.path.rstrip('/')}"
            if prof.behaviour == "redirect_userinfo":
                location = userinfo_url(location)  # same origin, with a credential in it
            return web.Response(status=307, headers={"Location": location})
        if prof.behaviour in FLAPS:  # up or down by visit (census.testbed.flapping)
            flapped = flap_answer(self._visits.state(ep), request)
            if flapped is not None:
                return flapped
        special = await bh.http_behaviour(request, ep)
        if special is not None:
            return special
        origin = request.headers.get("Origin")
        headers = {**bh.cors_headers(prof, origin, host.name), **bh.rate_headers(prof)}
        if request.method == "OPTIONS":
            return bh.preflight(prof, origin, host.name)
        if prof.rate == "enforced" and self._rates.hit(ep):
            return bh.too_many(headers)
        if prof.auth != "none" and "Authorization" not in request.headers:
            resp = bh.auth_wall(ep)
            resp.headers.update(headers)
            return resp
        if prof.host_check:
            return web.Response(status=421, text="Invalid Host header", headers=headers)
        if prof.origin_check and origin is not None and origin != _own_origin(ep, request):
            return web.Response(status=403, text="Invalid Origin header", headers=headers)
        return await handle_mcp(request, ep, body, headers, self._state)

    async def _other_path(
        self, request: web.Request, host: HostEntry, body: bytes, record: dict[str, Any]
    ) -> web.StreamResponse:
        path = request.path
        if path == "/messages/" and request.method == "POST":
            resp, ep = await handle_messages(request, body, self._state)
            if ep is not None:
                record["endpoint"], record["profile"] = ep.url, ep.profile.name
            return resp
        prefix = "/.well-known/oauth-protected-resource"
        # RFC 9728 §3.1: the resource's path is appended to the well-known path, and a
        # resource at the origin's root ("/") has its metadata at the bare well-known path.
        is_prm = path == prefix or path.startswith(prefix + "/")
        if is_prm and request.method in ("GET", "HEAD"):
            target = self._routes.get((host.name, path[len(prefix) :]))
            if target is None:
                target = self._routes.get((host.name, path[len(prefix) :] + "/"))
            doc = bh.prm(target) if target else None
            if doc is not None:
                assert target is not None
                record["endpoint"], record["profile"] = target.url, target.profile.name
                return web.json_response(
                    doc,
                    headers={
                        "Access-Control-Allow-Origin": "*",
                        "Cache-Control": "public, max-age=3600",
                    },
                )
        as_ep = self._as_index.get(path)
        if as_ep is not None and as_ep.host == host.name and request.method in ("GET", "HEAD"):
            record["endpoint"], record["profile"] = as_ep.url, as_ep.profile.name
            meta = bh.as_metadata(as_ep)
            if meta is not None:
                return web.json_response(meta)
        return web.Response(status=404, text="Not Found")


def _own_origin(ep: Endpoint, request: web.Request) -> str:
    return f"{ep.scheme}://{request.host}"


def _bind(ip: str, port: int, backlog: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _full_queue(ip: str, port: int) -> Iterable[socket.socket]:
    """A listener that never accepts, its accept queue filled so further SYNs are dropped."""
    listener = _bind(ip, port, 0)
    fillers = []
    for _ in range(2):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError, OSError):
            filler.connect((ip, port))
        fillers.append(filler)
    return [listener, *fillers]
