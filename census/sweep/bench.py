"""``census bench --domains N``: the sweep against the simulated sweep world, measured.

The world (DNS and web server) runs in a process of its own; the sweep runs in this one, so the
CPU time and peak RSS reported for the sweep are its own.  Reported: domains/s end to end and
per stage (the DNS stage over every domain, the HTTP stage over the domains it visited), HTTP
requests, ``skipped_by_robots``, CPU, peak RSS, recall and precision against the planted truth,
and the wall time extrapolated to 1,000,000 domains.  No database: storing a sweep's few
candidates is not what limits it (``census sweep`` stores them per job).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from census.errors import CensusError
from census.sweep.model import DomainResult, SweepSettings
from census.sweep.pipeline import sweep_domains
from census.testbed.sweepworld import SweepWorld

__all__ = ["run_sweep_bench"]


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def run_sweep_bench(
    domains: int, seed: int, work_dir: Path, progress: bool = True
) -> dict[str, Any]:
    """Serve a world, sweep its first ``domains`` domains, compare with the truth."""
    world_proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "census.testbed.sweepworld",
            "--seed",
            str(seed),
            "--out",
            str(work_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert world_proc.stdout is not None
        line = world_proc.stdout.readline()  # the world prints where it listens once serving
        if not line:
            raise CensusError("the simulated sweep world did not start")
        served = json.loads(line)
        settings = SweepSettings(
            nameservers=(served["nameserver"],),
            scheme="http",
            port=int(served["http_port"]),
            allow_loopback=True,
        )
        world = SweepWorld(seed, int(served["http_port"]))
        found: set[str] = set()
        done = [0]

        def on_result(result: DomainResult) -> None:
            done[0] += 1
            found.update(url for url, *_ in result.found)

        async def sweep() -> Any:
            async with anyio.create_task_group() as group:

                async def report() -> None:
                    while progress:
                        await anyio.sleep(10)
                        print(f"swept {done[0]}/{domains} domains", file=sys.stderr, flush=True)

                group.start_soon(report)
                stats = await sweep_domains(world.domains(domains), settings, on_result)
                group.cancel_scope.cancel()
            return stats

        before, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        try:
            import uvloop  # noqa: F401

            stats = anyio.run(sweep, backend_options={"use_uvloop": True})
        except ImportError:
            stats = anyio.run(sweep)
        seconds = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        world_proc.send_signal(signal.SIGTERM)
        _, _, world_usage = os.wait4(world_proc.pid, 0)
    expected: set[str] = set()
    blocked = 0
    for domain in world.domains(domains):
        expected |= world.expected(domain)
        blocked += world.robots_blocked(domain)
    hits = len(found & expected)
    cpu = _cpu(after) - _cpu(before)
    counts = stats.counts()
    return {
        "domains": domains,
        "seconds": round(seconds, 1),
        "domains_per_s": round(domains / seconds, 1),
        "dns_stage_domains_per_s": round(domains / stats.dns_seconds, 1)
        if stats.dns_seconds
        else None,
        "http_stage_domains": stats.domains_with_http,
        "http_stage_domains_per_s": (
            round(stats.domains_with_http / stats.http_seconds, 1) if stats.http_seconds else None
        ),
        "dns_queries": counts.get("dns_queries", 0),
        "http_requests": stats.requests,
        "skipped_by_robots": stats.skipped_by_robots,
        "cpu_seconds": round(cpu, 1),
        "cpu_ms_per_domain": round(1000 * cpu / domains, 3),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "world_cpu_seconds": round(world_usage.ru_utime + world_usage.ru_stime, 1),
        "planted_mcp": len(expected),
        "planted_blocked_by_robots": blocked,
        "found": len(found),
        "recall": round(hits / len(expected), 4) if expected else None,
        "precision": round(hits / len(found), 4) if found else None,
        "extrapolated_1m_minutes": round(1_000_000 / (domains / seconds) / 60, 1),
        "outcomes": counts,
    }


def bench_command(domains: int, seed: int, work_dir: Path | None, as_json: bool) -> None:
    """``census bench --domains N``: run, then print a table (or one JSON object)."""
    import tempfile

    import typer
    from rich.console import Console
    from rich.table import Table

    from census.errors import UsageError

    if domains < 1:
        raise UsageError("--domains must be positive")
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        result = run_sweep_bench(domains, seed, work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="census-sweep-bench-") as tmp:
            result = run_sweep_bench(domains, seed, Path(tmp))
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"census bench --domains {domains} (simulated sweep world)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key != "outcomes":
            table.add_row(key.replace("_", " "), "–" if value is None else str(value))
    Console().print(table)
