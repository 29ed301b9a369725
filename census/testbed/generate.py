"""Generate a simulated internet: endpoints, host names, addresses and profiles from a seed.

Deterministic: the same (endpoints, seed, mix, ports) always yields the same world.  Host names
and paths come from real registry URLs (``census/testbed/data/identities.csv``); each host gets
its own loopback address 127.a.b.c (127.0.0.0/16 is left to other local servers).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources

from census.testbed.catalog import (
    BYSTANDER,
    CATALOG,
    FINDINGS_CATALOG,
    FLAPPING_CATALOG,
    HOSTILE_CATALOG,
    Entry,
    build_profile,
)
from census.testbed.model import Endpoint, HostEntry, World

__all__ = ["Identity", "generate", "identities", "loopback_ip"]

#: Shared platform hosts, each serving many endpoints under one name (prior-work: pipeworx.io,
#: smithery.ai and mcp.ai hold a large share of live servers).
PLATFORM_HOSTS = ("server.smithery.ai", "mcp.pipeworx.io", "gw.mcp.ai")
_PATH_VARIANTS = ("/mcp", "/sse", "/api/mcp", "/v1/mcp", "/mcp/stream", "/")


@dataclass(frozen=True, slots=True)
class Identity:
    host: str
    path: str
    transport: str


@cache
def identities() -> tuple[Identity, ...]:
    """The bundled slice of real registry host names and paths."""
    text = resources.files("census.testbed").joinpath("data/identities.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return tuple(Identity(r["host"], r["path"], r["type"]) for r in rows)


def loopback_ip(i: int) -> str:
    """The i-th testbed address: 127.1.1.1, 127.1.1.2, … (never .0 or .255)."""
    a, rest = divmod(i, 254 * 254)
    b, c = divmod(rest, 254)
    return f"127.{1 + a}.{b + 1}.{c + 1}"


_DEAD = {
    "refused",
    "blackhole",
    "connect_timeout",
    "reset",
    "dns",
    "tls_handshake_fail",
    "tls_expired",
    "tls_wrong_host",
    "tls_self_signed",
    "http_5xx",
    "http_429",
    "http_404",
    "html_login",
    "json_api",
    "no_sse_405",
    "host_421",
    "redirect_private",
    "redirect_cross_origin",
}


_ISSUE12 = frozenset(HOSTILE_CATALOG)


def _realistic_weight(entry: Entry) -> float:
    # Scaled so that ~39% of MCP servers need no auth and roughly a third of all listed
    # endpoints are dead (prior-work.md: "a quarter to a half").
    if entry.name.startswith("auth_"):
        return entry.realistic * 4.6
    return entry.realistic * (2.0 if entry.name in _DEAD else 1.0)


def _choose_entries(rng: random.Random, n: int, mix: str) -> list[Entry]:
    if mix == "uniform":
        # Round-robin over a shuffled catalogue: every entry appears floor(n/len) or +1 times.
        order = list(CATALOG)
        rng.shuffle(order)
        return [order[i % len(order)] for i in range(n)]
    if mix == "realistic":
        pool = [e for e in CATALOG if e.realistic > 0]
        return rng.choices(pool, weights=[_realistic_weight(e) for e in pool], k=n)
    if mix == "hostile":
        hostile = [e for e in CATALOG if e.hostile]
        other = [e for e in CATALOG if e.realistic > 0]
        weights = [_realistic_weight(e) for e in other]
        # Issue 12's entries round-robin (every one appears once n is about 5× their number),
        # each followed by a healthy bystander that generate() puts on the same host.
        issue12 = list(HOSTILE_CATALOG)
        rng.shuffle(issue12)
        out: list[Entry] = []
        pairs = 0
        while len(out) < n:
            r = rng.random()
            if r < 0.3 and len(out) + 1 < n:
                entry = issue12[pairs % len(issue12)]
                # A name that resolves to a private address has no host to share.
                out += [entry] if entry.host_level else [entry, BYSTANDER]
                pairs += 1
            elif r < 0.6:
                out.append(rng.choice(hostile))
            else:
                out.append(rng.choices(other, weights)[0])
        return out
    if mix == "flapping":
        # Round-robin over the flapping entries (census.testbed.flapping).
        order = list(FLAPPING_CATALOG)
        rng.shuffle(order)
        return [order[i % len(order)] for i in range(n)]
    if mix == "findings":
        # Round-robin over the planted-findings entries (poisoned, shadowing, clean, rug pulls,
        # secrets): every plant appears floor(n/len) or +1 times.
        order = list(FINDINGS_CATALOG)
        rng.shuffle(order)
        return [order[i % len(order)] for i in range(n)]
    raise ValueError(f"unknown mix {mix!r} (uniform, realistic, hostile, findings, flapping)")


class _Namer:
    """Hands out unique host names from the real identities, renaming on reuse."""

    def __init__(self, rng: random.Random) -> None:
        self._ids = list(identities())
        rng.shuffle(self._ids)
        self._next = 0
        self._used: set[str] = set(PLATFORM_HOSTS)
        self._next_suffix: dict[str, int] = {}

    def take(self) -> Identity:
        ident = self._ids[self._next % len(self._ids)]
        cycle = self._next // len(self._ids)
        self._next += 1
        host = ident.host if cycle == 0 else f"r{cycle}.{ident.host}"
        while host in self._used:
            k = self._next_suffix.get(ident.host, 1) + 1
            self._next_suffix[ident.host] = k
            host = f"s{k}.{ident.host}"
        self._used.add(host)
        return Identity(host, ident.path, ident.transport)


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"


def _server_name(host: str) -> str:
    return f"{host.split('.')[0]}-mcp"


def generate(n: int, seed: int, mix: str, tls_port: int, plain_port: int) -> World:
    """Build the world: ``n`` endpoints with profiles from ``mix``; the caller fixes the ports."""
    rng = random.Random(f"census-testbed:{seed}:{mix}:{n}")
    world = World(seed=seed, mix=mix)
    namer = _Namer(rng)
    entries = _choose_entries(rng, n, mix)
    ip_counter = 0
    shared: dict[str, tuple[str, int, set[str]]] = {}  # scheme -> (host, remaining, paths)
    platform_paths: dict[str, int] = {}

    def new_host(name: str, tls: str, listen: str = "http", ip: str | None = "auto") -> str:
        nonlocal ip_counter
        if ip == "auto":
            ip = loopback_ip(ip_counter)
            ip_counter += 1
        world.hosts[name] = HostEntry(name=name, ip=ip, tls=tls, listen=listen)  # type: ignore[arg-type]
        return name

    for index, entry in enumerate(entries):
        ident = namer.take()
        profile = build_profile(entry, rng, _server_name(ident.host), _version(rng))
        scheme = "http" if profile.tls == "plain" else "https"
        port = plain_port if scheme == "http" else tls_port
        path = ident.path if ident.path.startswith("/") else "/" + ident.path
        if profile.era == "legacy_sse" and not path.endswith("/sse") and rng.random() < 0.7:
            path = "/sse"
        platform = False
        b = profile.behaviour
        if entry.host_level:
            host = ident.host
            if b == "dns":
                pass  # deliberately absent from the hosts file
            elif b == "private_address" and entry.name == "private_address_v6_forms":
                v4 = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                ip = rng.choice([f"::{v4}", f"::ffff:0:{v4}", f"fec0::{rng.randint(1, 9999):x}"])
                new_host(host, profile.tls, listen="none", ip=ip)
            elif b == "private_address":
                ip = rng.choice(
                    [
                        f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                        f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                        "169.254.169.254",
                    ]
                )
                new_host(host, profile.tls, listen="none", ip=ip)
            elif b == "invalid_url":
                pass
            elif b == "opted_out":
                new_host(host, profile.tls)
                world.optouts.append(host)
            else:
                listen = b if b in ("refused", "blackhole", "reset", "connect_timeout") else "http"
                if b == "tls_handshake_fail":
                    listen = "tls_alert"
                new_host(host, profile.tls, listen=listen)
        elif entry in _ISSUE12:
            # A host of its own, shared only with the bystander that follows (same shard).
            host = ident.host
            new_host(host, "valid")
            if b == "long_url_path":
                path = "/mcp/" + "/".join(f"segment-{i:03d}" for i in range(272))
            shared[scheme] = (host, 1, {path, path.rstrip("/") or "/"})
        elif entry is BYSTANDER:
            host, _remaining, paths = shared[scheme]
            for variant in (path, *_PATH_VARIANTS, f"/mcp{index}"):
                if variant not in paths and variant.rstrip("/") not in paths:
                    path = variant
                    break
            shared[scheme] = (host, 0, paths | {path, path.rstrip("/") or "/"})
        elif rng.random() < 0.12 and b not in ("slash_redirect",) and scheme == "https":
            platform = True
            host = PLATFORM_HOSTS[index % len(PLATFORM_HOSTS)]
            if host not in world.hosts:
                new_host(host, "valid")
            k = platform_paths.get(host, 0)
            platform_paths[host] = k + 1
            slug = ident.host.split(".")[0]
            path = f"/@{slug}-{k}/mcp" if profile.era != "legacy_sse" else f"/@{slug}-{k}/sse"
        else:
            host, remaining, paths = shared.get(scheme, ("", 0, set()))
            if remaining <= 0 or path in paths or path.rstrip("/") in paths:
                host, remaining, paths = ident.host, rng.randint(1, 4), set()
                new_host(host, "valid" if scheme == "https" else "plain")
            for variant in (path, *_PATH_VARIANTS, f"/mcp{index}"):
                if variant == "/" and entry in FINDINGS_CATALOG:
                    continue  # canonical URLs drop a bare "/": keep the findings mix canonical
                if variant not in paths and variant.rstrip("/") not in paths:
                    path = variant
                    break
            paths.update({path, path.rstrip("/") or "/"})
            shared[scheme] = (host, remaining - 1, paths)
        if b in ("slash_redirect", "redirect_userinfo") and path == "/":
            path = f"/mcp{index}/"
        elif b in ("slash_redirect", "redirect_userinfo") and not path.endswith("/"):
            path = path + "/"
        if b == "invalid_url":
            url = rng.choice(
                [
                    f"https://{{tenant}}.{host}/mcp",
                    f"https://{host}:99999/mcp",
                    f"https://{host}/mcp/{{workspace_id}}",
                ]
            )
        else:
            url = f"{scheme}://{host}:{port}{path}"
        if profile.secret == "query":
            # The canonical URL: registries list it with the credential (plants.listed_url).
            url += "?api_key=REDACTED"
        world.endpoints.append(
            Endpoint(
                index=index,
                url=url,
                host=host,
                path=path,
                scheme=scheme,
                profile=profile,
                seed=rng.getrandbits(32),
                platform=platform,
            )
        )
    return world
