"""The DNS stage against the testbed's authoritative server: every answer becomes data."""

from __future__ import annotations

import pytest

from census.sweep.dns import DnsStage, txt_urls
from census.sweep.model import SweepSettings
from census.testbed.dns import (
    AAAA,
    CNAME,
    NXDOMAIN,
    SERVFAIL,
    TXT,
    A,
    Answer,
    DnsServer,
    Record,
)

pytestmark = pytest.mark.anyio


def rules(name: str, qtype: int) -> Answer:
    zone = ".".join(name.split(".")[-2:])
    if zone == "gone.test":
        return Answer(rcode=NXDOMAIN)
    if zone == "broken.test":
        return Answer(rcode=SERVFAIL)
    if zone == "silent.test":
        return Answer(drop=True)
    if zone == "private.test":
        return Answer(records=(Record(name, A, "192.168.1.5"),) if qtype == A else ())
    if zone == "mixed.test":
        return Answer(records=(Record(name, A, "127.0.0.2"), Record(name, A, "10.0.0.1")))
    if zone == "chain.test" and name.startswith("mcp."):
        chain = (
            Record(name, CNAME, "c1.host.test"),
            Record("c1.host.test", CNAME, "edge.host.test"),
        )
        return Answer(
            records=(*chain, Record("edge.host.test", A, "127.0.0.2")) if qtype == A else chain
        )
    if zone == "chain.test" and name == zone:
        return Answer(records=(Record(name, A, "127.0.0.2"),) if qtype == A else ())
    if zone == "wild.test":
        return Answer(records=(Record(name, A, "127.0.0.7"),) if qtype == A else ())
    if zone == "slow.test" and name == "slow.test":
        return Answer(records=(Record(name, AAAA, "::1"),) if qtype == AAAA else (), delay=0.05)
    if name == "_mcp.txt.test" and qtype == TXT:
        return Answer(records=(Record(name, TXT, "v=mcp1; url=https://txt.test/mcp"),))
    if name == "txt.test":
        return Answer(records=(Record(name, A, "127.0.0.2"),) if qtype == A else ())
    return Answer(rcode=NXDOMAIN)


async def test_outcomes_are_data() -> None:
    async with DnsServer(rules) as server:
        settings = SweepSettings(
            nameservers=(server.address,), dns_timeout=0.3, dns_tries=1, allow_loopback=True
        )
        stage = DnsStage(settings)
        try:
            gone = await stage.resolve("gone.test")
            broken = await stage.resolve("broken.test")
            silent = await stage.resolve("silent.test")
            private = await stage.resolve("private.test")
            mixed = await stage.resolve("mixed.test")
            chain = await stage.resolve("chain.test")
            wild = await stage.resolve("wild.test")
            slow = await stage.resolve("slow.test")
            txt = await stage.resolve("txt.test")
        finally:
            await stage.close()
    assert (gone.apex.outcome, gone.mcp.outcome) == ("nxdomain", "nxdomain")
    assert broken.apex.outcome == "servfail" and broken.mcp.outcome == "servfail"
    assert silent.apex.outcome == "timeout"
    assert private.apex.outcome == "refused" and private.apex.addresses == ("192.168.1.5",)
    assert mixed.apex.outcome == "refused"  # one non-public address refuses the whole answer
    assert chain.mcp.outcome == "ok"
    assert chain.mcp.cnames == ("c1.host.test", "edge.host.test")
    assert chain.apex.outcome == "ok" and not chain.wildcard
    assert wild.wildcard and wild.mcp.outcome == "wildcard" and wild.apex.outcome == "ok"
    assert slow.apex.outcome == "ok" and slow.apex.addresses == ("::1",)
    assert txt.txt == ("v=mcp1; url=https://txt.test/mcp",) and txt.txt_outcome == "ok"
    assert txt.hosts() == ["txt.test"]


async def test_loopback_is_refused_unless_allowed() -> None:
    async with DnsServer(rules) as server:
        stage = DnsStage(SweepSettings(nameservers=(server.address,), dns_timeout=0.3))
        try:
            found = await stage.resolve("txt.test")
        finally:
            await stage.close()
    assert found.apex.outcome == "refused" and found.hosts() == []


def test_txt_urls_reads_the_draft_form_only() -> None:
    texts = (
        "v=mcp1; url=https://a.test/mcp",
        "v=spf1 -all",
        "url=https://b.test/mcp",
        "v=mcp1; url=ftp://x",
    )
    assert txt_urls(texts) == ["https://a.test/mcp"]
