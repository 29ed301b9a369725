"""A 10,000-domain sweep against the simulated sweep world (DNS and web server on loopback).

One sweep, then every property read from its results and from the web server's request log:
recall and precision 1.0 against the planted truth, robots.txt honoured, at most one request
per second per apex domain, DNS failures kept as data.  Seed 46 plants every kind of zone in the
first 10,000 domains (asserted, so that a change of the rules cannot silently weaken the test).
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass

import anyio
import pytest

from census.discovery.domains import CARD_PATHS, CATALOG_PATH
from census.sweep.model import DomainResult, SweepSettings, SweepStats
from census.sweep.pipeline import sweep_domains
from census.testbed.sweepworld import MCP_KINDS, WEB_KINDS, SweepWorld

SEED = 46
DOMAINS = 10_000


@dataclass
class Swept:
    world: SweepWorld
    results: dict[str, DomainResult]
    stats: SweepStats
    log: list[tuple[float, str, str, str]]
    settings: SweepSettings


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Swept:
    # The world in a process of its own, as in `census bench`: its answers never wait for the
    # sweep's event loop (nor the sweep for its).
    out = tmp_path_factory.mktemp("world")
    command = [sys.executable, "-m", "census.testbed.sweepworld", "--seed", str(SEED)]
    proc = subprocess.Popen(
        [*command, "--out", str(out), "--log"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        served = json.loads(proc.stdout.readline())
        settings = SweepSettings(
            nameservers=(served["nameserver"],),
            dns_timeout=1.0,
            scheme="http",
            port=int(served["http_port"]),
            allow_loopback=True,
        )
        world = SweepWorld(SEED, int(served["http_port"]))
        results: dict[str, DomainResult] = {}

        def keep(result: DomainResult) -> None:
            assert result.domain not in results  # each domain handed over exactly once
            results[result.domain] = result

        stats = anyio.run(sweep_domains, world.domains(DOMAINS), settings, keep)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    lines = (out / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    log = [(float(t), str(h), str(p), str(a)) for t, h, p, a in map(json.loads, lines)]
    return Swept(world, results, stats, log, settings)


def test_every_kind_of_zone_is_planted(swept: Swept) -> None:
    zones = [swept.world.zone(d) for d in swept.world.domains(DOMAINS)]
    kinds = {z.kind for z in zones if z.band in {"mcp", "web"}}
    assert set(MCP_KINDS) <= kinds and set(WEB_KINDS) <= kinds
    bands = {z.band for z in zones}
    assert bands == {"mcp", "web", "dead", "private", "servfail", "timeout", "slow", "nxdomain"}
    web = sum(z.band in {"mcp", "web"} for z in zones)
    assert 0.005 * DOMAINS <= web <= 0.02 * DOMAINS  # about 1% with a web server


def test_recall_and_precision_are_one(swept: Swept) -> None:
    world = swept.world
    assert len(swept.results) == DOMAINS
    planted = found = hits = 0
    for domain in world.domains(DOMAINS):
        expected = world.expected(domain)
        got = {url for url, *_ in swept.results[domain].found}
        assert got == expected, (domain, world.zone(domain))
        planted += len(expected)
        found += len(got)
        hits += len(got & expected)
    assert planted >= 10 and hits == planted == found


def test_how_each_candidate_was_found_is_recorded(swept: Swept) -> None:
    expected_how = {
        "txt": "dns-txt",
        "card": "/.well-known/mcp/server-card.json",
        "catalog": "ai-catalog",
    }
    for domain, result in swept.results.items():
        zone = swept.world.zone(domain)
        for _url, how, _transport, card in result.found:
            assert how == expected_how.get(zone.kind, "convention"), (domain, zone)
            if zone.kind in {"card", "catalog"}:
                assert card is not None
                assert card["name"] in {f"test.{domain}/server", f"test.{domain}/catalogued"}


def test_robots_txt_is_honoured(swept: Swept) -> None:
    world = swept.world
    by_host: dict[str, list[str]] = defaultdict(list)
    for _at, host, path, agent in swept.log:
        assert agent.startswith("census/")
        by_host[host].append(path)
    blocked = partial = 0
    for host, paths in by_host.items():
        # robots.txt first on every name, and once per name
        assert paths[0] == "/robots.txt" and paths.count("/robots.txt") == 1, host
        zone = world.zone(".".join(host.split(".")[-2:]))
        if zone.kind in {"robots_blocked", "robots_disallow"}:
            blocked += 1
            assert paths == ["/robots.txt"], host
        if zone.kind == "robots_partial":
            partial += 1
            assert not [p for p in paths if p.startswith("/.well-known/")], host
    assert blocked and partial
    assert swept.stats.skipped_by_robots == sum(r.skipped_by_robots for r in swept.results.values())
    # a fully blocked domain skips the catalog, the card paths and two conventional paths
    for domain, result in swept.results.items():
        if world.zone(domain).kind == "robots_blocked":
            assert result.skipped_by_robots == 1 + len(CARD_PATHS) + 2 and not result.found
    assert CATALOG_PATH.startswith("/.well-known/")


def test_at_most_one_request_per_second_per_apex(swept: Swept) -> None:
    starts: dict[str, list[float]] = defaultdict(list)
    for at, host, _path, _agent in swept.log:
        starts[".".join(host.split(".")[-2:])].append(at)
    busiest = 0
    for apex, times in starts.items():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 1.0 for gap in gaps), (apex, min(gaps))
        busiest = max(busiest, len(times))
    assert busiest >= 10  # some apex really was asked many times


def test_dns_failures_are_data(swept: Swept) -> None:
    expected_outcome = {
        "nxdomain": "nxdomain",
        "servfail": "servfail",
        "timeout": "timeout",
        "private": "refused",
        "slow": "ok",
        "dead": "ok",
        "web": "ok",
        "mcp": "ok",
    }
    for domain, result in swept.results.items():
        zone = swept.world.zone(domain)
        assert result.dns.apex.outcome == expected_outcome[zone.band], (domain, zone)
        assert result.dns.wildcard == zone.wildcard, (domain, zone)
        if zone.wildcard:
            assert result.dns.mcp.outcome == "wildcard"
        if zone.kind == "cname":
            assert result.dns.mcp.cnames[-1] == "edge.platform-sim.test"
            assert len(result.dns.mcp.cnames) == 2
        if zone.band in {"nxdomain", "servfail", "timeout", "private"}:
            assert result.requests == 0
    outcomes = swept.stats.outcomes
    assert outcomes["apex_timeout"] and outcomes["apex_servfail"] and outcomes["apex_refused"]
