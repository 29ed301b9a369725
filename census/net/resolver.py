"""The vetting resolver: resolve once, refuse non-public addresses, connect to what was vetted.

aiohttp's :class:`~aiohttp.TCPConnector` connects to exactly the addresses its resolver returns
and keeps the URL's host name for SNI and ``Host``; so vetting inside the resolver closes the
DNS-rebinding gap (there is no second lookup between check and connect).  IP-literal URLs bypass
aiohttp resolvers entirely, so :func:`vet_literal` is called for them before any request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from census.net.addresses import IPAddress, is_public

__all__ = [
    "AddressRefused",
    "NameNotFound",
    "VettingResolver",
    "is_public",
    "load_hosts_file",
    "vet_literal",
]


class AddressRefused(OSError):
    """The name resolved (or the URL pointed) to an address the policy refuses."""


class NameNotFound(OSError):
    """The name does not resolve (NXDOMAIN, or absent from the hosts file)."""


def load_hosts_file(path: Path) -> dict[str, str]:
    """Parse an /etc/hosts-style file into {name: address} (first address wins)."""
    mapping: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        address, *names = line.split()
        ipaddress.ip_address(address)  # a malformed file is the user's error: fail loudly
        for name in names:
            mapping.setdefault(name.lower().rstrip("."), address)
    return mapping


@lru_cache(maxsize=65536)
def _literal(host: str) -> IPAddress | None:
    """The address an IP-literal host names, None for a name (cached: asked on every request,
    and parsing a name as an address raises, which is not cheap)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def vet_literal(host: str, *, allow_private: bool, allowed: frozenset[str] = frozenset()) -> None:
    """Refuse an IP-literal host unless public, allowed by policy, or listed in the hosts file."""
    address = _literal(host)
    if address is None:
        return  # a name: the resolver vets it at connect time
    if allow_private or str(address) in allowed or is_public(address):
        return
    raise AddressRefused(f"{address} is not a public address")


class VettingResolver(AbstractResolver):
    """Resolve through a hosts mapping (exclusive) or system DNS, refusing non-public answers."""

    def __init__(self, hosts: Mapping[str, str] | None = None, *, allow_private: bool) -> None:
        self._hosts = {k.lower(): v for k, v in (hosts or {}).items()}
        self._allow_private = allow_private
        self._system: ThreadedResolver | None = None if hosts is not None else ThreadedResolver()
        self._loopback = frozenset(
            a for a in self._hosts.values() if ipaddress.ip_address(a).is_loopback
        )

    @property
    def hosts_addresses(self) -> frozenset[str]:
        """Loopback addresses named by the hosts file: allowed as IP literals too."""
        return self._loopback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        if self._system is None:
            # Hosts-file mode: names absent from the file never reach system DNS.
            listed = self._hosts.get(name)
            if listed is None:
                raise NameNotFound(f"{name} is not in the hosts file")
            address = ipaddress.ip_address(listed)
            # The hosts file stands in for public DNS on loopback: its loopback addresses are
            # the simulated internet; any other non-public address is refused as usual.
            if not (self._allow_private or address.is_loopback or is_public(address)):
                raise AddressRefused(f"{name} resolves to {listed}")
            return [_result(host, listed, port)]
        try:
            answers = await self._system.resolve(host, port, family)
        except OSError as exc:
            raise NameNotFound(f"{name}: {exc}") from exc
        if not self._allow_private:
            # One blocked address refuses the whole answer: mixed answers are a rebinding trick.
            for answer in answers:
                if not is_public(ipaddress.ip_address(answer["host"])):
                    raise AddressRefused(f"{name} resolves to {answer['host']}")
        return answers

    async def close(self) -> None:
        if self._system is not None:
            await self._system.close()


def _result(hostname: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    result: dict[str, Any] = {
        "hostname": hostname,
        "host": address,
        "port": port,
        "family": family,
        "proto": 0,
        "flags": socket.AI_NUMERICHOST,
    }
    return result  # type: ignore[return-value]
