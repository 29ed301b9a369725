"""The sweep's HTTP stage: robots.txt, the well-known documents, the conventional paths.

For one domain whose names passed the DNS stage, in this order, stopping at the first MCP
answer:

1. ``/robots.txt`` of each origin before anything else on it, fetched once and kept for the
   domain's whole visit (:mod:`census.sweep.robots`); a path it disallows for ``census`` is not
   requested (counted in ``skipped_by_robots``).
2. The well-known documents on ``<d>``: the AI catalog, then the server-card locations
   (``census.discovery.domains.CATALOG_PATH`` / ``CARD_PATHS``); the first that names an
   endpoint ends the visit.
3. The conventional URLs ``mcp.<d>/mcp``, ``mcp.<d>/sse``, ``<d>/mcp``, ``<d>/sse``: a GET (no
   body read, no redirect followed) that is not a 404/410, 3xx, 5xx or 200 HTML page is an
   answer — unless a random path on the same origin (asked once per origin) answers the same
   way (status and content type): a catch-all route, not an MCP endpoint.

Politeness: one request at a time to one apex domain (all its names), each starting
``apex_interval`` (one second) after the previous one ended; a global semaphore caps requests
in flight; a name that refused the connection (or failed TLS) gets no further request.  The
stage never resolves a name itself: its aiohttp resolver answers only with the addresses the
DNS stage vetted.
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import anyio
from aiohttp.abc import AbstractResolver, ResolveResult

from census.discovery.domains import CARD_PATHS, CATALOG_PATH, card_remotes, catalog_entries
from census.discovery.normalize import registrable_domain
from census.net.errors import failure_of
from census.sweep.dns import txt_urls
from census.sweep.model import DomainDns, DomainResult, SweepSettings
from census.sweep.robots import ALLOW_ALL, DISALLOW_ALL, MAX_ROBOTS_BYTES, Robots, parse_robots
from census.vocabulary import FailureReason

__all__ = ["ApexClock", "HttpStage", "VettedAddresses"]

_ACCEPT_JSON = {"Accept": "application/mcp-server-card+json, application/json;q=0.9"}
_ACCEPT_MCP = {"Accept": "application/json, text/event-stream"}
_ACCEPT_TEXT = {"Accept": "text/plain"}
#: Failures after which a name gets no further request during this visit.
_DEAD = frozenset(
    {
        FailureReason.DNS_ERROR,
        FailureReason.CONNECT_REFUSED,
        FailureReason.CONNECT_TIMEOUT,
        FailureReason.TLS_ERROR,
        FailureReason.PRIVATE_ADDRESS,
    }
)


class VettedAddresses(AbstractResolver):
    """aiohttp's resolver for the sweep: the DNS stage's vetted addresses, nothing else."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, ...]] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.names.get(host.lower().rstrip("."))
        if not addresses:
            raise OSError(f"{host} was not vetted by the DNS stage")
        out: list[ResolveResult] = []
        for address in addresses:
            result: dict[str, Any] = {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            out.append(result)  # type: ignore[arg-type]
        # IPv4 first: the address families are tried in order.
        out.sort(key=lambda r: r["family"] == socket.AF_INET6)
        return out

    async def close(self) -> None:
        return None


@dataclass(slots=True)
class _Apex:
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    next_start: float = 0.0
    users: int = 0


class ApexClock:
    """One request at a time per apex domain, each starting ``interval`` seconds after the
    previous one *ended*: whatever delays a request on its way, the server never sees two
    requests of one apex less than ``interval`` apart."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._apexes: dict[str, _Apex] = {}

    def enter(self, apex: str) -> None:
        state = self._apexes.setdefault(apex, _Apex())
        state.users += 1

    def leave(self, apex: str) -> None:
        state = self._apexes[apex]
        state.users -= 1
        if state.users == 0 and state.next_start <= time.monotonic():
            del self._apexes[apex]  # forget idle apexes: a million of them stay bounded

    @asynccontextmanager
    async def slot(self, apex: str) -> AsyncIterator[None]:
        state = self._apexes.setdefault(apex, _Apex())
        async with state.lock:
            wait = state.next_start - time.monotonic()
            if wait > 0:
                await anyio.sleep(wait)
            try:
                yield
            finally:
                state.next_start = time.monotonic() + self.interval


@dataclass(frozen=True, slots=True)
class _Got:
    status: int | None
    content_type: str = ""
    body: bytes = b""
    error: str | None = None

    def signature(self) -> tuple[object, ...]:
        return (self.status, self.error, self.content_type)

    def answers(self) -> bool:
        status = self.status
        if status is None or status in {404, 410} or status >= 500 or 300 <= status < 400:
            return False
        return not (status == 200 and "html" in self.content_type)


@dataclass
class _Visit:
    """One domain's visit: its robots, dead names and guards (kept only while it lasts)."""

    dns: DomainDns
    result: DomainResult
    apex: str
    robots: dict[str, Robots] = field(default_factory=dict)
    dead: set[str] = field(default_factory=set)
    guards: dict[str, tuple[object, ...]] = field(default_factory=dict)


class HttpStage:
    """``async with HttpStage(settings) as stage: await stage.visit(dns, result)``."""

    def __init__(self, settings: SweepSettings) -> None:
        self.settings = settings
        self.clock = ApexClock(settings.apex_interval)
        self.resolver = VettedAddresses()
        self._in_flight = anyio.Semaphore(settings.http_in_flight)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpStage:
        context = ssl.create_default_context()
        if self.settings.ca_file:
            context.load_verify_locations(cafile=self.settings.ca_file)
        connector = aiohttp.TCPConnector(
            resolver=self.resolver,
            ssl=context,
            limit=self.settings.http_in_flight,
            use_dns_cache=False,
            keepalive_timeout=3.0,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.settings.user_agent},
            timeout=aiohttp.ClientTimeout(
                total=self.settings.request_timeout, sock_connect=self.settings.connect_timeout
            ),
            auto_decompress=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _origin(self, host: str) -> str:
        port = f":{self.settings.port}" if self.settings.port else ""
        return f"{self.settings.scheme}://{host}{port}"

    async def visit(self, dns: DomainDns, result: DomainResult) -> None:
        """Look for MCP on one domain (its TXT announcement, else over HTTP)."""
        for url in txt_urls(dns.txt):
            result.found.append((url, "dns-txt", None, None))
        hosts = dns.hosts()
        if result.found or not hosts:
            return
        apex = registrable_domain(dns.domain) or dns.domain
        for name in (dns.apex, dns.mcp):
            if name.outcome == "ok":
                self.resolver.names[name.name] = name.addresses
        self.clock.enter(apex)
        visit = _Visit(dns, result, apex)
        try:
            if dns.apex.outcome == "ok" and await self._well_known(visit, dns.domain):
                return
            await self._conventions(visit, hosts)
        finally:
            self.clock.leave(apex)
            for host in hosts:
                self.resolver.names.pop(host, None)

    async def _well_known(self, visit: _Visit, host: str) -> bool:
        for path in (CATALOG_PATH, *CARD_PATHS):
            document = await self._json(visit, host, path)
            if document is None:
                continue
            how = "ai-catalog" if path == CATALOG_PATH else path
            found = []
            for card in _cards(document):
                found.extend(card_remotes(card, how))
            if not found and not _cards(document) and path != CATALOG_PATH:
                found = card_remotes(document, how)
            for item in found:
                summary = item.card if isinstance(item.card, dict) else None
                transport = item.transport if isinstance(item.transport, str) else None
                visit.result.found.append((item.url, how, transport, summary))
            if found:
                return True
            if host in visit.dead:
                return False
        return False

    async def _conventions(self, visit: _Visit, hosts: list[str]) -> None:
        for host in hosts:
            for path, transport in (("/mcp", "streamable-http"), ("/sse", "sse")):
                got = await self._get(visit, host, path, _ACCEPT_MCP, read=False)
                if got is None or not got.answers():
                    continue
                if host not in visit.guards:
                    guard = await self._get(
                        visit, host, f"/census-{secrets.token_hex(6)}", _ACCEPT_MCP, read=False
                    )
                    visit.guards[host] = guard.signature() if guard else ()
                if visit.guards[host] == got.signature():
                    continue  # a catch-all answers any path this way
                url = self._origin(host) + path
                visit.result.found.append((url, "convention", transport, None))
                return

    async def _json(self, visit: _Visit, host: str, path: str) -> Any:
        got = await self._get(visit, host, path, _ACCEPT_JSON, read=True)
        if got is None or got.status is None or not 200 <= got.status < 300:
            return None
        if "html" in got.content_type:
            return None
        try:
            return json.loads(got.body)
        except ValueError:
            return None

    async def _robots(self, visit: _Visit, host: str) -> Robots | None:
        robots = visit.robots.get(host)
        if robots is not None:
            return robots
        got = await self._fetch(visit, host, "/robots.txt", _ACCEPT_TEXT, True, MAX_ROBOTS_BYTES)
        if got.error is not None and got.status is None:
            if got.error in _DEAD:
                visit.dead.add(host)
                return None
            robots = DISALLOW_ALL  # reached but no answer: RFC 9309 says assume disallowed
        elif got.status is not None and 200 <= got.status < 300:
            robots = parse_robots(got.body.decode("utf-8", "replace"))
        elif got.status is not None and got.status >= 500:
            robots = DISALLOW_ALL
        else:
            robots = ALLOW_ALL  # 3xx/4xx: no robots.txt to honour
        visit.robots[host] = robots
        return robots

    async def _get(
        self, visit: _Visit, host: str, path: str, headers: Mapping[str, str], *, read: bool
    ) -> _Got | None:
        """GET ``path`` on ``host`` if robots.txt allows it and the name is alive."""
        if host in visit.dead:
            return None
        robots = await self._robots(visit, host)
        if robots is None:
            return None
        if not robots.allows(path):
            visit.result.skipped_by_robots += 1
            return None
        got = await self._fetch(visit, host, path, headers, read, self.settings.max_body)
        if got.error in _DEAD and got.status is None:
            visit.dead.add(host)
        return got

    async def _fetch(
        self,
        visit: _Visit,
        host: str,
        path: str,
        headers: Mapping[str, str],
        read: bool,
        cap: int,
    ) -> _Got:
        assert self._session is not None
        visit.result.requests += 1
        url = self._origin(host) + path
        async with self.clock.slot(visit.apex), self._in_flight:
            try:
                async with self._session.get(
                    url, headers=headers, allow_redirects=False
                ) as response:
                    content_type = response.headers.get("Content-Type", "")
                    content_type = content_type.split(";")[0].strip().lower()
                    body = await response.content.read(cap) if read else b""
                    return _Got(response.status, content_type, body)
            except Exception as exc:  # remote misbehaviour is data
                return _Got(None, error=str(failure_of(exc).reason))


def _cards(document: Any) -> list[dict[str, Any]]:
    """The server cards an AI catalog carries inline (entries by reference are not followed:
    they may name other hosts, which the sweep does not visit)."""
    cards = []
    for item in catalog_entries(document):
        kind = item.get("type")
        if isinstance(kind, str) and "mcp-server-card" not in kind:
            continue
        if isinstance(item.get("data"), dict):
            cards.append(item["data"])
    return cards
