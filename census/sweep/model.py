"""The sweep's settings and the typed records that pass between its stages."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from census import __version__

__all__ = ["DomainDns", "DomainResult", "NameDns", "SweepSettings", "SweepStats"]


@dataclass(frozen=True, slots=True)
class SweepSettings:
    """How one sweep runs (all values; the CLI and the job arguments build it)."""

    user_agent: str = f"census/{__version__} (MCP endpoint census, domain sweep)"
    #: ``["127.0.0.1:5353"]``; empty = the system's resolvers (/etc/resolv.conf).
    nameservers: tuple[str, ...] = ()
    dns_timeout: float = 2.0
    dns_tries: int = 2
    #: Times a question that timed out (after c-ares's own tries) is asked in all.
    dns_attempts: int = 3
    #: Domains being resolved at once (each asks five to six questions).
    dns_domains_in_flight: int = 500
    #: Domains in the HTTP stage at once, and HTTP requests in flight over all of them.
    http_domains_in_flight: int = 2000
    http_in_flight: int = 256
    #: Seconds from the end of one request to one apex domain (its names share the clock) to
    #: the start of the next: measured from the end, so no delay on the way brings two
    #: requests within a second at the server.
    apex_interval: float = 1.0
    request_timeout: float = 10.0
    connect_timeout: float = 5.0
    max_body: int = 256 * 1024
    scheme: str = "https"
    #: A non-default port for every URL (the simulated web server; never for real sweeps).
    port: int | None = None
    #: Loopback answers count as public (the simulated internet lives on loopback).
    allow_loopback: bool = False
    #: Extra CA bundle (a testbed's).
    ca_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "nameservers": list(self.nameservers),
            "dns_timeout": self.dns_timeout,
            "dns_tries": self.dns_tries,
            "dns_attempts": self.dns_attempts,
            "dns_domains_in_flight": self.dns_domains_in_flight,
            "http_domains_in_flight": self.http_domains_in_flight,
            "http_in_flight": self.http_in_flight,
            "apex_interval": self.apex_interval,
            "request_timeout": self.request_timeout,
            "connect_timeout": self.connect_timeout,
            "scheme": self.scheme,
            "port": self.port,
            "allow_loopback": self.allow_loopback,
            "ca_file": self.ca_file,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], user_agent: str | None = None) -> SweepSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["nameservers"] = tuple(known.get("nameservers") or ())
        if user_agent is not None:
            known["user_agent"] = user_agent
        return cls(**known)


@dataclass(frozen=True, slots=True)
class NameDns:
    """What DNS said about one name: an outcome word, the addresses, the CNAME chain."""

    name: str
    #: ``ok`` (addresses), ``nodata`` (the name exists, no address), ``nxdomain``,
    #: ``servfail``, ``timeout``, ``refused`` (answered, but every address is non-public),
    #: ``wildcard`` (answered only as every name of its zone is), ``error``.
    outcome: str
    addresses: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome}
        if self.addresses:
            out["addresses"] = list(self.addresses)
        if self.cnames:
            out["cname_chain"] = list(self.cnames)
        return out


@dataclass(frozen=True, slots=True)
class DomainDns:
    """The DNS stage's findings for one apex domain."""

    domain: str
    apex: NameDns
    mcp: NameDns
    #: ``_mcp.<d>`` TXT strings (the DNS-announcement drafts).
    txt: tuple[str, ...] = ()
    txt_outcome: str = "nxdomain"
    wildcard: bool = False

    def hosts(self) -> list[str]:
        """The names worth an HTTP request, ``mcp.<d>`` first."""
        return [n.name for n in (self.mcp, self.apex) if n.outcome == "ok"]


@dataclass(slots=True)
class DomainResult:
    """One domain after the sweep: how DNS went, and every candidate with how it was found."""

    domain: str
    dns: DomainDns
    #: (url, found_by, transport hint, card summary or None)
    found: list[tuple[str, str, str | None, dict[str, Any] | None]] = field(default_factory=list)
    requests: int = 0
    skipped_by_robots: int = 0


@dataclass(slots=True)
class SweepStats:
    """Counts and stage timings of one sweep (or one chunk)."""

    domains: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    skipped_by_robots: int = 0
    domains_with_http: int = 0
    candidates: int = 0
    dns_seconds: float = 0.0
    http_seconds: float = 0.0
    seconds: float = 0.0

    def add(self, result: DomainResult) -> None:
        self.domains += 1
        self.outcomes["apex_" + result.dns.apex.outcome] += 1
        self.outcomes["mcp_" + result.dns.mcp.outcome] += 1
        if result.dns.txt:
            self.outcomes["txt_record"] += 1
        if result.dns.wildcard:
            self.outcomes["wildcard_zone"] += 1
        self.requests += result.requests
        self.skipped_by_robots += result.skipped_by_robots
        self.domains_with_http += bool(result.requests)
        self.candidates += len(result.found)

    def counts(self) -> dict[str, int]:
        """Every count as one flat mapping (stored with each chunk's read)."""
        out = {k: int(v) for k, v in sorted(self.outcomes.items())}
        out.update(
            domains=self.domains,
            requests=self.requests,
            skipped_by_robots=self.skipped_by_robots,
            domains_with_http=self.domains_with_http,
            candidates=self.candidates,
        )
        return out
