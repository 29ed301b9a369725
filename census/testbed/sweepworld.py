"""A million simulated domains for ``census sweep``: DNS and HTTP answered from rules, not tables.

A domain's fate is a hash of (seed, apex): a band of parts per million picks its zone kind
(NXDOMAIN, SERVFAIL, never answered, slow, a private address, an address with no web server, a
web server, a web server with MCP) and a second slice of the hash picks the variant.  The same
function answers the simulated DNS (:class:`census.testbed.dns.DnsServer`), the simulated web
server (one aiohttp app on ``127.0.0.2`` answering per ``Host`` header) and the ground truth
(:meth:`SweepWorld.expected`), so the truth of any of a million domains costs one hash.

Addresses: ``127.0.0.2`` runs the web server; ``127.0.0.3`` and ``::1`` have nothing listening
on its port (connection refused); ``10.20.30.40`` is a private address the sweep must refuse.

Planted (per million domains): 1,000 with MCP — at ``mcp.<d>/mcp``, ``<d>/mcp``, ``<d>/sse``, a
server card, an AI catalog, behind a CNAME chain to a platform host, announced by an ``_mcp``
TXT record, in a wildcard zone, behind a robots.txt that lets census read only some paths, and
one kind behind a robots.txt that disallows census altogether (not to be found); 9,000 web
servers without MCP, some of them traps (every path answers 405, ``{}`` or an HTML page; a
wildcard zone whose every name answers; an empty ``mcp.`` host; robots.txt disallowing census).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from census.testbed.dns import (
    AAAA,
    CNAME,
    NXDOMAIN,
    SERVFAIL,
    TXT,
    Answer,
    DnsServer,
    Record,
)
from census.testbed.dns import A as A_RECORD

__all__ = [
    "MCP_KINDS",
    "WEB_KINDS",
    "RequestLog",
    "SweepWorld",
    "WorldServers",
    "Zone",
    "serve_world",
]

WEB_ADDRESS = "127.0.0.2"
DEAD_ADDRESS = "127.0.0.3"
DEAD_ADDRESS6 = "::1"
PRIVATE_ADDRESS = "10.20.30.40"
PLATFORM_ZONE = "platform-sim.test"
PLATFORM_EDGE = f"edge.{PLATFORM_ZONE}"
#: Seconds a slow zone's answers are held back (well within the sweep's DNS timeout).
SLOW_DELAY = 0.1

#: (upper bound in parts per million, zone kind), checked in order.
BANDS: tuple[tuple[int, str], ...] = (
    (1_000, "mcp"),
    (10_000, "web"),
    (150_000, "dead"),
    (155_000, "private"),
    (165_000, "servfail"),
    (167_000, "timeout"),
    (177_000, "slow"),
    (1_000_000, "nxdomain"),
)
MCP_KINDS = (
    "sub_mcp",
    "apex_mcp",
    "apex_sse",
    "card",
    "catalog",
    "cname",
    "txt",
    "robots_blocked",
    "robots_partial",
    "wildcard_mcp",
)
#: Web servers without MCP; ``plain`` is most of them.
WEB_KINDS = (
    "plain",
    "plain",
    "plain",
    "plain",
    "html_catchall",
    "json_catchall",
    "405_catchall",
    "robots_disallow",
    "wildcard_site",
    "mcp_host_empty",
    "redirect",
)

_ROBOTS_BLOCK = "User-agent: census\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
_ROBOTS_PARTIAL = (
    "User-agent: *\nDisallow: /private/\n\nUser-agent: census\nDisallow: /.well-known/\n"
)
_ROBOTS_OTHERS = "User-agent: *\nDisallow: /search\n\nUser-agent: badbot\nDisallow: /\n"


@dataclass(frozen=True, slots=True)
class Zone:
    """What one apex domain is in this world."""

    apex: str
    band: str
    kind: str = ""
    #: ``*.<apex>`` resolves (to the web server).
    wildcard: bool = False
    #: ``mcp.<apex>`` has its own record.
    mcp_host: bool = False


class SweepWorld:
    """The rules: DNS answers, HTTP answers and ground truth for any domain of the world."""

    def __init__(self, seed: int = 0, http_port: int = 0) -> None:
        self.seed = seed
        self.http_port = http_port

    # -- names ------------------------------------------------------------------------------

    def domain(self, index: int) -> str:
        return f"s{self.seed}-{index:07d}.test"

    def domains(self, count: int, start: int = 0) -> Iterator[str]:
        for index in range(start, start + count):
            yield self.domain(index)

    def zone(self, apex: str) -> Zone:
        digest = hashlib.blake2b(f"{self.seed}/{apex}".encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        ppm, variant = value % 1_000_000, value // 1_000_000
        band = next(name for bound, name in BANDS if ppm < bound)
        if band == "mcp":
            kind = MCP_KINDS[variant % len(MCP_KINDS)]
            return Zone(
                apex,
                band,
                kind,
                wildcard=kind == "wildcard_mcp",
                mcp_host=kind in {"sub_mcp", "cname"},
            )
        if band == "web":
            kind = WEB_KINDS[variant % len(WEB_KINDS)]
            return Zone(
                apex,
                band,
                kind,
                wildcard=kind == "wildcard_site",
                mcp_host=kind == "mcp_host_empty",
            )
        if band == "dead":
            return Zone(apex, band, "v6" if variant % 10 == 0 else "")
        return Zone(apex, band)

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.http_port}"

    def expected(self, apex: str) -> frozenset[str]:
        """The endpoint URLs a correct, polite sweep finds for ``apex`` (the planted truth)."""
        zone = self.zone(apex)
        if zone.band != "mcp":
            return frozenset()
        base, sub = self.origin(apex), self.origin(f"mcp.{apex}")
        url = {
            "sub_mcp": sub + "/mcp",
            "cname": sub + "/mcp",
            "apex_mcp": base + "/mcp",
            "robots_partial": base + "/mcp",
            "wildcard_mcp": base + "/mcp",
            "apex_sse": base + "/sse",
            "card": base + "/api/mcp",
            "catalog": base + "/v1/mcp",
            "txt": base + "/txt/mcp",
        }.get(zone.kind)
        return frozenset({url}) if url else frozenset()

    def robots_blocked(self, apex: str) -> bool:
        """Whether the domain runs MCP that robots.txt forbids census to look for."""
        return self.zone(apex).kind == "robots_blocked"

    # -- DNS --------------------------------------------------------------------------------

    def dns(self, name: str, qtype: int) -> Answer:
        name = name.lower().rstrip(".")
        labels = name.split(".")
        if len(labels) < 2:
            return Answer(rcode=NXDOMAIN)
        apex = ".".join(labels[-2:])
        if apex == PLATFORM_ZONE:
            return self._platform(name, qtype)
        zone = self.zone(apex)
        if zone.band == "servfail":
            return Answer(rcode=SERVFAIL)
        if zone.band == "timeout":
            return Answer(drop=True)
        if zone.band == "nxdomain":
            return Answer(rcode=NXDOMAIN)
        delay = SLOW_DELAY if zone.band == "slow" else 0.0
        sub = labels[:-2]
        if not sub:
            return Answer(records=self._apex_records(zone, name, qtype), delay=delay)
        if sub == ["_mcp"]:
            if zone.kind == "txt" and qtype == TXT:
                url = self.origin(apex) + "/txt/mcp"
                return Answer(records=(Record(name, TXT, f"v=mcp1; url={url}"),))
            return Answer(rcode=NXDOMAIN) if not zone.wildcard else Answer()
        if sub == ["mcp"] and zone.mcp_host:
            if zone.kind == "cname":
                return Answer(records=self._cname_chain(zone, name, qtype))
            return Answer(records=self._web_records(name, qtype))
        if zone.wildcard:
            return Answer(records=self._web_records(name, qtype), delay=delay)
        return Answer(rcode=NXDOMAIN, delay=delay)

    def _apex_records(self, zone: Zone, name: str, qtype: int) -> tuple[Record, ...]:
        if zone.band in {"mcp", "web"}:
            return self._web_records(name, qtype)
        if zone.band == "private":
            return (Record(name, A_RECORD, PRIVATE_ADDRESS),) if qtype == A_RECORD else ()
        if qtype == A_RECORD:
            return (Record(name, A_RECORD, DEAD_ADDRESS),)
        if qtype == AAAA and zone.kind == "v6":
            return (Record(name, AAAA, DEAD_ADDRESS6),)
        return ()

    @staticmethod
    def _web_records(name: str, qtype: int) -> tuple[Record, ...]:
        return (Record(name, A_RECORD, WEB_ADDRESS),) if qtype == A_RECORD else ()

    def _cname_chain(self, zone: Zone, name: str, qtype: int) -> tuple[Record, ...]:
        customer = f"{zone.apex.replace('.', '-')}.customers.{PLATFORM_ZONE}"
        chain = (Record(name, CNAME, customer), Record(customer, CNAME, PLATFORM_EDGE))
        if qtype == A_RECORD:
            return (*chain, Record(PLATFORM_EDGE, A_RECORD, WEB_ADDRESS))
        return chain

    def _platform(self, name: str, qtype: int) -> Answer:
        if name == PLATFORM_EDGE:
            return Answer(records=self._web_records(name, qtype))
        if name.endswith(f".customers.{PLATFORM_ZONE}"):
            return Answer(records=(Record(name, CNAME, PLATFORM_EDGE),))
        return Answer(rcode=NXDOMAIN)

    # -- HTTP -------------------------------------------------------------------------------

    def http(self, host: str, path: str) -> web.Response:
        """The web server's answer to GET ``path`` on ``host`` (the Host header, port dropped)."""
        labels = host.lower().rstrip(".").split(".")
        apex = ".".join(labels[-2:])
        zone = self.zone(apex)
        sub = labels[:-2]
        if zone.band not in {"mcp", "web"}:
            return web.Response(status=421, text="misdirected")
        if path == "/robots.txt":
            return self._robots(zone)
        kind = zone.kind
        if sub and not zone.mcp_host and not zone.wildcard:
            return web.Response(status=421, text="misdirected")
        if kind == "html_catchall":
            return web.Response(text="<html><body>hello</body></html>", content_type="text/html")
        if kind == "json_catchall":
            return web.json_response({})
        if kind == "405_catchall" or (kind == "wildcard_site" and sub):
            return web.Response(status=405, headers={"Allow": "POST"})
        if kind == "redirect":
            return web.Response(status=301, headers={"Location": f"https://www.{apex}/"})
        if path == "/":
            return web.Response(text="<html><body>home</body></html>", content_type="text/html")
        if zone.band == "mcp":
            found = self._mcp(zone, bool(sub), path)
            if found is not None:
                return found
        return web.Response(status=404, text="not found")

    def _robots(self, zone: Zone) -> web.Response:
        if zone.kind in {"robots_blocked", "robots_disallow"}:
            return web.Response(text=_ROBOTS_BLOCK)
        if zone.kind == "robots_partial":
            return web.Response(text=_ROBOTS_PARTIAL)
        if zone.kind in {"plain", "card"}:
            return web.Response(text=_ROBOTS_OTHERS)
        return web.Response(status=404, text="not found")

    def _mcp(self, zone: Zone, on_sub: bool, path: str) -> web.Response | None:
        kind, apex = zone.kind, zone.apex
        streamable = web.Response(status=405, headers={"Allow": "POST"})
        if on_sub:
            return streamable if kind in {"sub_mcp", "cname"} and path == "/mcp" else None
        if kind in {"apex_mcp", "robots_blocked", "robots_partial", "wildcard_mcp"}:
            return streamable if path == "/mcp" else None
        if kind == "apex_sse" and path == "/sse":
            return web.Response(
                body=b"event: endpoint\ndata: /messages?session=planted\n\n",
                content_type="text/event-stream",
            )
        if kind == "txt" and path == "/txt/mcp":
            return streamable
        if kind == "card":
            if path == "/.well-known/mcp/server-card.json":
                return web.json_response(
                    {
                        "name": f"test.{apex}/server",
                        "version": "1.0.0",
                        "remotes": [
                            {"type": "streamable-http", "url": self.origin(apex) + "/api/mcp"}
                        ],
                    }
                )
            return streamable if path == "/api/mcp" else None
        if kind == "catalog":
            if path == "/.well-known/ai-catalog.json":
                card = {
                    "name": f"test.{apex}/catalogued",
                    "version": "2.0.0",
                    "remotes": [{"type": "streamable-http", "url": self.origin(apex) + "/v1/mcp"}],
                }
                entry = {"type": "application/mcp-server-card+json", "data": card}
                return web.json_response({"entries": [entry]})
            return streamable if path == "/v1/mcp" else None
        return None


@dataclass
class RequestLog:
    """Every request the simulated web server received: (monotonic time, host, path, agent)."""

    entries: list[tuple[float, str, str, str]] = field(default_factory=list)
    keep: bool = True
    count: int = 0

    def add(self, host: str, path: str, agent: str) -> None:
        self.count += 1
        if self.keep:
            self.entries.append((time.monotonic(), host, path, agent))


def make_http_app(world: SweepWorld, log: RequestLog) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0] if request.host else ""
        log.add(host, request.path, request.headers.get("User-Agent", ""))
        return world.http(host, request.path)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


class WorldServers:
    """The world's DNS (on 127.0.0.1) and web server (on 127.0.0.2), in this event loop."""

    def __init__(self, seed: int = 0, *, keep_log: bool = True) -> None:
        self.world = SweepWorld(seed)
        self.log = RequestLog(keep=keep_log)
        self.dns = DnsServer(lambda name, qtype: self.world.dns(name, qtype))
        self._runner: web.AppRunner | None = None

    @property
    def nameserver(self) -> str:
        return self.dns.address

    @property
    def http_port(self) -> int:
        return self.world.http_port

    async def __aenter__(self) -> WorldServers:
        self._runner = web.AppRunner(make_http_app(self.world, self.log), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, WEB_ADDRESS, 0, backlog=1024)
        await site.start()
        server = getattr(site, "_server", None)
        assert server is not None and server.sockets
        self.world.http_port = server.sockets[0].getsockname()[1]
        await self.dns.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dns.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def describe(self) -> dict[str, object]:
        return {
            "seed": self.world.seed,
            "nameserver": self.nameserver,
            "http_port": self.http_port,
            "web_address": WEB_ADDRESS,
        }


def band_counts(world: SweepWorld, count: int) -> Counter[str]:
    """How many of the first ``count`` domains fall in each band (for reports and tests)."""
    return Counter(world.zone(d).band for d in world.domains(count))


async def serve_world(seed: int, out: Path, domains: int = 0, log: bool = False) -> None:
    """Serve the world until SIGTERM/SIGINT; ``out`` gets ``sweep.json`` (where it listens,
    also printed as one line on stdout once serving), with ``domains`` ``domains.txt``, and with
    ``log`` every request in ``requests.jsonl`` at shutdown (monotonic time, host, path, agent).
    """
    async with WorldServers(seed, keep_log=log) as servers:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        out.mkdir(parents=True, exist_ok=True)
        described = servers.describe()
        if domains:
            names = "\n".join(servers.world.domains(domains))
            (out / "domains.txt").write_text(names + "\n", encoding="utf-8")
        (out / "sweep.json").write_text(json.dumps(described), encoding="utf-8")
        print(json.dumps(described), flush=True)
        await stop.wait()
        if log:
            with (out / "requests.jsonl").open("w", encoding="utf-8") as sink:
                for entry in servers.log.entries:
                    sink.write(json.dumps(entry) + "\n")
        described["requests"] = servers.log.count
        described["dns_answers"] = servers.dns.answered
        (out / "sweep-served.json").write_text(json.dumps(described), encoding="utf-8")


def main() -> None:  # ``python -m census.testbed.sweepworld --seed 7 --out DIR --domains N``
    parser = argparse.ArgumentParser(description="serve the simulated sweep world")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--domains", type=int, default=0, help="write domains.txt with N names")
    parser.add_argument("--log", action="store_true", help="write requests.jsonl at shutdown")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve_world(args.seed, args.out, args.domains, args.log))


if __name__ == "__main__":
    main()
