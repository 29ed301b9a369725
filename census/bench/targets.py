"""The URL list every side probes, chosen from a served simulated internet.

``--mix target`` is issue 6's benchmark internet: 10 % blackholes and 20–200 ms latency.  The
testbed's realistic mix has about 3 % blackholes and 5–300 ms latency, so the list is
post-selected from it: served endpoints whose latency lies outside 20–200 ms are left out (those
that never answer at the HTTP level keep their place: latency cannot apply to them), and every
tenth URL is a blackhole.  The other mixes take the testbed's endpoints as they are.

Endpoints the census never contacts by policy (``skipped`` in the manifest: opt-outs, private
addresses, invalid URLs) are left out for every side: the bench measures probing.

One testbed process serves at most :data:`MAX_SERVED` endpoints (each host is a listening socket
and the descriptor limit is 20,000 here); larger lists repeat the served endpoints in passes,
blackholes included, so a URL recurs only after every other URL of its kind.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from pathlib import Path

__all__ = ["MAX_SERVED", "MIXES", "build_targets", "served_size"]

MIXES = ("target", "realistic", "uniform", "hostile")
#: Largest testbed one process serves under a 20,000 file-descriptor hard limit.
MAX_SERVED = 20_000
LATENCY_MS = (20, 200)
BLACKHOLE_SHARE = 0.10
#: Share of a target-mix testbed that survives the latency filter (measured: ~70 %).
_TARGET_YIELD = 0.65


def served_size(n: int, mix: str) -> int:
    """How many endpoints to serve so that ``n`` URLs can be chosen without repeats."""
    need = n / _TARGET_YIELD if mix == "target" else n / 0.97
    return max(50, min(MAX_SERVED, math.ceil(need)))


def _latencies(folder: Path, served: int, seed: int) -> dict[str, tuple[str, int]]:
    """{url: (behaviour, latency_ms)} regenerated from the testbed's seed and ports."""
    from census.testbed.generate import generate

    meta = json.loads((folder / "testbed.json").read_text(encoding="utf-8"))
    world = generate(served, seed, "realistic", int(meta["tls_port"]), int(meta["plain_port"]))
    return {ep.url: (ep.profile.behaviour, ep.profile.latency_ms) for ep in world.endpoints}


def build_targets(
    manifest: Mapping[str, Mapping[str, str]],
    n: int,
    mix: str,
    seed: int,
    folder: Path | None = None,
) -> list[str]:
    """``n`` URLs from the manifest (see the module docstring); ``folder`` for ``target``."""
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, not {mix!r}")
    rng = random.Random(f"census-bench:{seed}:{mix}")
    probed = [url for url, row in manifest.items() if row.get("status") != "skipped"]
    if not probed:
        raise ValueError("the testbed has no endpoint to probe")
    if mix != "target":
        rng.shuffle(probed)
        return [probed[i % len(probed)] for i in range(n)]
    if folder is None:
        raise ValueError("the target mix needs the testbed folder (its seed and ports)")
    facts = _latencies(folder, len(manifest), seed)
    missing = [url for url in probed if url not in facts]
    if missing:
        raise ValueError(f"the testbed's world does not match its manifest: {missing[:3]}")
    low, high = LATENCY_MS
    blackholes, others = [], []
    for url in probed:
        behaviour, latency = facts[url]
        if behaviour == "blackhole":
            blackholes.append(url)
        elif manifest[url]["status"] == "unreachable" or low <= latency <= high:
            others.append(url)
    if not blackholes or not others:
        raise ValueError("the testbed is too small for the target mix: serve more endpoints")
    rng.shuffle(blackholes)
    rng.shuffle(others)
    out: list[str] = []
    b = o = 0
    every = round(1 / BLACKHOLE_SHARE)
    for i in range(n):
        if i % every == every - 1:
            out.append(blackholes[b % len(blackholes)])
            b += 1
        else:
            out.append(others[o % len(others)])
            o += 1
    return out
