"""The one "public address" rule: which IP addresses census may ever contact.

Pure (``ipaddress`` only), so discovery (refusing IP-literal URLs), the resolver (refusing DNS
answers) and the classifier (naming a refused redirect ``private_address``) all ask the same
question the same way.  ``ipaddress``'s ``is_global`` is not enough on its own: it says True
for several forms that reach private IPv4 space or are not unicast, listed in
:data:`_EXTRA_BLOCKED`.
"""

from __future__ import annotations

import ipaddress

__all__ = ["IPAddress", "is_public"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges `is_global` does not already exclude but which must never be probed.
_EXTRA_BLOCKED = (
    # CGNAT; it also hosts the Alibaba Cloud metadata address 100.100.100.200.
    ipaddress.ip_network("100.64.0.0/10"),
    # NAT64 (well-known and local-use prefixes) and 6to4 can smuggle private IPv4 addresses.
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2002::/16"),
    # IPv4-compatible IPv6 (`::a.b.c.d`, deprecated by RFC 4291) and IPv4-translated
    # (`::ffff:0:a.b.c.d`, RFC 2765): stacks that still honour them reach the embedded IPv4
    # address, and `is_global` says True for both.
    ipaddress.ip_network("::/96"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
    # Site-local (deprecated by RFC 3879, still routed inside some networks).
    ipaddress.ip_network("fec0::/10"),
)


def is_public(address: IPAddress) -> bool:
    """True for globally routable unicast addresses only (IPv4-mapped IPv6 is unwrapped)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    if any(address in net for net in _EXTRA_BLOCKED):
        return False
    return address.is_global and not address.is_multicast
