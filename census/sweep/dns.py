"""The sweep's DNS stage: ``<d>`` and ``mcp.<d>`` (A, AAAA, CNAME chain), ``_mcp.<d>`` TXT.

``<d> A`` is asked first: when it is NXDOMAIN the rest is not asked (RFC 8020: no name exists
under it).  Asynchronous through aiodns (c-ares): one channel, thousands of questions in
flight, pointed at the system's resolvers or at named servers (``127.0.0.1:PORT`` works:
c-ares takes a port).
Every answer is data: NXDOMAIN, SERVFAIL, no data and timeouts become a :class:`NameDns`
outcome, never an exception.  A question that timed out is asked again (``dns_attempts`` in
all): c-ares shortens its timeout to a few times the server's usual latency, so one late answer
on a loaded machine would otherwise pass for a dead zone.

Wildcards: when ``mcp.<d>`` resolves, a random label under ``<d>`` is asked too; if it resolves
to the same addresses, ``mcp.<d>`` exists only as every name of the zone does, and the sweep
does not treat it as a host of its own (its outcome becomes ``wildcard``).

Only public addresses go on (``census.net.addresses.is_public``); a name with any other address
is ``refused`` — mixed answers are a rebinding trick.  ``allow_loopback`` lets loopback count as
public, for the simulated internet only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets

import aiodns
from aiodns.error import DNSError

from census.net.addresses import is_public
from census.sweep.model import DomainDns, NameDns, SweepSettings

__all__ = ["DnsStage", "txt_urls"]

_A, _AAAA, _CNAME, _TXT = 1, 28, 5, 16
_ERRORS = {
    aiodns.error.ARES_ENOTFOUND: "nxdomain",
    aiodns.error.ARES_ENODATA: "nodata",
    aiodns.error.ARES_ESERVFAIL: "servfail",
    aiodns.error.ARES_ETIMEOUT: "timeout",
    aiodns.error.ARES_EREFUSED: "servfail",
    aiodns.error.ARES_ECONNREFUSED: "timeout",
}
#: When A and AAAA disagree, the outcome that tells the most wins.
_PRECEDENCE = ("ok", "refused", "nodata", "nxdomain", "servfail", "timeout", "error")


class _Reply:
    __slots__ = ("addresses", "cnames", "outcome", "texts")

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        self.addresses: list[str] = []
        self.cnames: list[str] = []
        self.texts: list[str] = []


class DnsStage:
    """Resolve domains; create inside the running event loop, ``close()`` when done."""

    def __init__(self, settings: SweepSettings) -> None:
        self.settings = settings
        self.queries = 0
        self._resolver = aiodns.DNSResolver(
            nameservers=list(settings.nameservers) or None,
            timeout=settings.dns_timeout,
            tries=settings.dns_tries,
            # Answers to thousands of questions in flight arrive in bursts.
            socket_receive_buffer_size=4 << 20,
        )

    async def close(self) -> None:
        await self._resolver.close()

    async def _ask(self, name: str, qtype: str) -> _Reply:
        for attempt in range(1, self.settings.dns_attempts + 1):
            self.queries += 1
            try:
                result = await self._resolver.query_dns(name, qtype)
            except DNSError as exc:
                code = exc.args[0] if exc.args else None
                outcome = _ERRORS.get(code, "error") if isinstance(code, int) else "error"
                if outcome == "timeout" and attempt < self.settings.dns_attempts:
                    continue
                return _Reply(outcome)
            except (UnicodeError, ValueError):
                return _Reply("error")  # a name c-ares cannot encode
            reply = _Reply("ok")
            for record in result.answer:
                data = record.data
                if record.type == _CNAME:
                    reply.cnames.append(str(getattr(data, "cname", "")).lower())
                elif record.type in (_A, _AAAA):
                    reply.addresses.append(str(getattr(data, "addr", "")))
                elif record.type == _TXT:
                    raw = getattr(data, "data", b"")
                    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
                    reply.texts.append(text[:1024])
            if not reply.addresses and not reply.texts:
                reply.outcome = "nodata"
            return reply
        return _Reply("timeout")

    def _vet(self, name: str, replies: list[_Reply]) -> NameDns:
        addresses = sorted({a for r in replies for a in r.addresses})
        cnames: list[str] = []
        for reply in replies:
            for cname in reply.cnames:
                if cname not in cnames:
                    cnames.append(cname)
        if not addresses:
            outcome = min((r.outcome for r in replies), key=_PRECEDENCE.index)
            return NameDns(name, "nodata" if outcome == "ok" else outcome, (), tuple(cnames))
        for address in addresses:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return NameDns(name, "error", tuple(addresses), tuple(cnames))
            if not (is_public(ip) or (self.settings.allow_loopback and ip.is_loopback)):
                return NameDns(name, "refused", tuple(addresses), tuple(cnames))
        return NameDns(name, "ok", tuple(addresses), tuple(cnames))

    async def _name(self, name: str) -> NameDns:
        a, aaaa = await asyncio.gather(self._ask(name, "A"), self._ask(name, "AAAA"))
        return self._vet(name, [a, aaaa])

    async def resolve(self, domain: str) -> DomainDns:
        first = await self._ask(domain, "A")
        if first.outcome == "nxdomain":
            # Nothing exists under a name that does not exist (RFC 8020): one question settles
            # most of a domain list's dead entries.
            gone = NameDns(domain, "nxdomain")
            return DomainDns(domain, gone, NameDns(f"mcp.{domain}", "nxdomain"))
        aaaa, mcp, txt = await asyncio.gather(
            self._ask(domain, "AAAA"),
            self._name(f"mcp.{domain}"),
            self._ask(f"_mcp.{domain}", "TXT"),
        )
        apex = self._vet(domain, [first, aaaa])
        wildcard = False
        if mcp.outcome == "ok":
            probe = await self._ask(f"census-{secrets.token_hex(6)}.{domain}", "A")
            if probe.addresses:
                wildcard = True
                if set(probe.addresses) <= set(mcp.addresses):
                    mcp = NameDns(mcp.name, "wildcard", mcp.addresses, mcp.cnames)
        return DomainDns(
            domain,
            apex,
            mcp,
            tuple(txt.texts),
            "ok" if txt.texts else txt.outcome,
            wildcard,
        )


def txt_urls(texts: tuple[str, ...]) -> list[str]:
    """The URLs ``_mcp`` TXT records announce (``v=mcp1; url=https://…``, the draft's form)."""
    out: list[str] = []
    for text in texts:
        fields = dict(part.strip().split("=", 1) for part in text.split(";") if "=" in part.strip())
        if not fields.get("v", "").lower().startswith("mcp"):
            continue
        url = fields.get("url", "").strip()
        if url.startswith(("https://", "http://")) and url not in out:
            out.append(url)
    return out
