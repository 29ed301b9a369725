import ipaddress
from pathlib import Path

import pytest

from census.net.resolver import (
    AddressRefused,
    NameNotFound,
    VettingResolver,
    is_public,
    load_hosts_file,
    vet_literal,
)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.100.100.200", False),  # CGNAT / Alibaba metadata
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),  # IPv4-mapped private
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        # Forms Python's `is_global` calls global although they reach private space:
        ("::10.0.0.1", False),  # IPv4-compatible (deprecated, RFC 4291)
        ("::8.8.8.8", False),  # ... refused whatever it embeds: not a real unicast form
        ("::ffff:0:10.0.0.1", False),  # IPv4-translated (RFC 2765)
        ("::ffff:0:8.8.8.8", False),
        ("fec0::1", False),  # site-local (deprecated, RFC 3879)
        ("feff::1", False),
    ],
)
def test_only_globally_routable_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("address", ["::10.0.0.1", "::ffff:0:a00:1", "fec0::1", "100.64.0.1"])
def test_every_stage_asks_the_one_public_address_rule(address: str) -> None:
    """Discovery, the resolver and the classifier agree, because they call the same rule."""
    from census.classify.status import _redirect_reason
    from census.discovery.normalize import normalize_url
    from census.records import Exchange
    from census.vocabulary import FailureReason

    assert is_public(ipaddress.ip_address(address)) is False
    with pytest.raises(AddressRefused):
        vet_literal(address, allow_private=False)
    literal = f"[{address}]" if ":" in address else address
    assert normalize_url(f"https://{literal}/mcp").rejected == "private_address"
    redirect = Exchange(
        step="discover",
        method="POST",
        url="https://h.example/mcp",
        status=307,
        response_headers={"location": f"https://{literal}/mcp"},
    )
    assert _redirect_reason(redirect) is FailureReason.PRIVATE_ADDRESS


def test_ip_literal_urls_outside_policy_are_refused_unless_allowed() -> None:
    with pytest.raises(AddressRefused):
        vet_literal("169.254.169.254", allow_private=False)
    with pytest.raises(AddressRefused):
        vet_literal("[::ffff:127.0.0.1]", allow_private=False)
    vet_literal("127.0.0.1", allow_private=True)
    vet_literal("127.0.0.5", allow_private=False, allowed=frozenset({"127.0.0.5"}))
    vet_literal("example.com", allow_private=False)  # names are vetted at connect time


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    path = tmp_path / "hosts"
    path.write_text(
        "# test\n127.0.0.9 mcp.example.com alias.example.com\n10.0.0.5 inside.example\n"
    )
    return path


def test_hosts_file_maps_every_listed_name(hosts: Path) -> None:
    assert load_hosts_file(hosts) == {
        "mcp.example.com": "127.0.0.9",
        "alias.example.com": "127.0.0.9",
        "inside.example": "10.0.0.5",
    }


@pytest.mark.anyio
async def test_hosts_file_names_resolve_to_their_loopback_address(hosts: Path) -> None:
    resolver = VettingResolver(load_hosts_file(hosts), allow_private=False)
    [answer] = await resolver.resolve("MCP.example.com.", 443)
    assert (answer["host"], answer["port"], answer["hostname"]) == (
        "127.0.0.9",
        443,
        "MCP.example.com.",
    )
    assert resolver.hosts_addresses == frozenset({"127.0.0.9"})


@pytest.mark.anyio
async def test_names_absent_from_the_hosts_file_never_reach_system_dns(hosts: Path) -> None:
    resolver = VettingResolver(load_hosts_file(hosts), allow_private=False)
    with pytest.raises(NameNotFound):
        await resolver.resolve("localhost", 80)


@pytest.mark.anyio
async def test_private_addresses_in_the_hosts_file_are_still_refused(hosts: Path) -> None:
    resolver = VettingResolver(load_hosts_file(hosts), allow_private=False)
    with pytest.raises(AddressRefused):
        await resolver.resolve("inside.example", 80)
    permissive = VettingResolver(load_hosts_file(hosts), allow_private=True)
    assert (await permissive.resolve("inside.example", 80))[0]["host"] == "10.0.0.5"


@pytest.mark.anyio
async def test_system_dns_answers_pointing_at_loopback_are_refused() -> None:
    resolver = VettingResolver(None, allow_private=False)
    try:
        with pytest.raises(AddressRefused):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()
