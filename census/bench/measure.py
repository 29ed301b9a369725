"""``census bench``: census against an SDK-built prober and a bare aiohttp loop, one simulated
internet, the same URL list and the same concurrency.

    testbed child ──────────────────────────────────────────────── (its own core)
    census child  → census.jsonl (rows + the requests it sent) ┐
    sdk child     → sdk.jsonl    (rows)                        ├─ one after another
    bare child    → bare.jsonl   (replays census.jsonl)        ┘
    parent: agreement with manifest.csv, ratios

Each side runs in a child process of its own (``census.bench.child``), so its CPU time and peak
RSS are that side's alone.  :func:`run_bench` returns the one JSON object ``census bench --json``
prints: ``{"census": {...}, "sdk": {...}, "bare": {...}, "ratios": {...}}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from census.bench.agreement import CENSUS_COLUMNS, SDK_COLUMNS, agreement, read_manifest
from census.bench.sides import Job
from census.bench.targets import build_targets, served_size
from census.errors import CensusError
from census.testbed.process import ServedTestbed

__all__ = [
    "BenchError",
    "BenchSpec",
    "read_results",
    "run_bench",
    "side_summary",
    "testbed_process",
]

TESTBED_START_DEADLINE = 600.0
TESTBED_STOP_DEADLINE = 120.0


class BenchError(CensusError):
    """The bench could not run (testbed did not start, a side's process failed)."""


@dataclass(frozen=True, slots=True)
class BenchSpec:
    """What ``census bench`` measures; every default in one place."""

    endpoints: int = 2000
    concurrency: int = 300
    mix: str = "target"
    seed: int = 1
    #: Endpoints the SDK side probes (0 = all): it is the slow side, a sample keeps large runs
    #: short; its rates are per endpoint, so a sample of the same list compares fairly.
    sdk_endpoints: int = 0
    #: Deadline for one side's process, seconds.
    side_deadline: float = 3600.0


@contextmanager
def testbed_process(folder: Path, endpoints: int, seed: int, mix: str) -> Iterator[Path]:
    """``census testbed serve`` in a child process (its own core) until the block ends."""
    try:
        testbed = ServedTestbed(folder, endpoints, seed, mix)
    except RuntimeError as exc:
        raise BenchError(
            f"the simulated internet ({endpoints} endpoints) did not start: {exc}"
        ) from exc
    try:
        yield folder
    finally:
        testbed.stop()


def _run_side(side: str, job: Job, work: Path, deadline: float) -> Path:
    job_file = work / f"{side}.job.json"
    job_file.write_text(job.to_json(), encoding="utf-8")
    out = work / f"{side}.jsonl"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "census.bench.child", side, str(job_file), str(out)],
            capture_output=True,
            text=True,
            timeout=deadline,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"the {side} side did not finish within {deadline:.0f} s") from exc
    if done.returncode != 0:
        raise BenchError(f"the {side} side failed:\n{done.stderr[-3000:]}")
    return out


def read_results(path: Path) -> tuple[list[tuple[str, dict[str, Any] | None]], dict[str, Any]]:
    """A side's output file: its (url, row) observations and its stats."""
    rows: list[tuple[str, dict[str, Any] | None]] = []
    stats: dict[str, Any] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            if "stats" in item:
                stats = item["stats"]
            else:
                rows.append((item["url"], item["row"]))
    if not stats:
        raise BenchError(f"{path} has no stats line: the side stopped early")
    return rows, stats


def side_summary(
    stats: dict[str, Any],
    rows: list[tuple[str, dict[str, Any] | None]],
    manifest: dict[str, dict[str, str]],
    columns: tuple[str, ...] | None,
    concurrency: int,
) -> dict[str, Any]:
    """One side's numbers; ``columns`` None = it does not classify (agreement null)."""
    n = max(1, int(stats["endpoints"]))
    out: dict[str, Any] = {
        "endpoints": int(stats["endpoints"]),
        "concurrency": concurrency,
        "wall_s": round(float(stats["wall_s"]), 2),
        "endpoints_per_s": round(n / max(1e-9, float(stats["wall_s"])), 2),
        "cpu_ms_per_endpoint": round(1000 * float(stats["cpu_s"]) / n, 3),
        "peak_rss_mb": round(float(stats["peak_rss_mb"]), 1),
        "startup_cpu_s": round(float(stats.get("startup_cpu_s", 0.0)), 2),
        "agreement": None,
    }
    if columns is not None:
        share = agreement(manifest, rows, columns).share
        out["agreement"] = None if share is None else round(share, 4)
        # Like for like with the SDK prober: the columns it can determine.
        common = agreement(manifest, rows, SDK_COLUMNS).share
        out["agreement_sdk_columns"] = None if common is None else round(common, 4)
    return out


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b > 0 else None


def run_bench(spec: BenchSpec, work: Path) -> dict[str, Any]:
    """Serve a testbed, run the three sides one after another, compare; see the module doc."""
    from census.bench.sides import sdk_available

    if not sdk_available():
        raise BenchError(
            "the official MCP SDK is not installed (it is a dev dependency): run `uv sync`"
            " (or `uv add --group dev mcp==2.3.0`) and try again"
        )
    work.mkdir(parents=True, exist_ok=True)
    served = served_size(spec.endpoints, spec.mix)
    testbed_mix = "realistic" if spec.mix == "target" else spec.mix
    with testbed_process(work / "testbed", served, spec.seed, testbed_mix) as folder:
        manifest = read_manifest(folder / "manifest.csv")
        urls = build_targets(manifest, spec.endpoints, spec.mix, spec.seed, folder)
        job = Job(
            urls=tuple(urls),
            hosts_file=folder / "hosts",
            ca_bundle=folder / "ca.pem",
            optouts_file=folder / "optouts.txt",
            concurrency=spec.concurrency,
        )
        census_out = _run_side("census", job, work, spec.side_deadline)
        sdk_urls = urls[: spec.sdk_endpoints] if spec.sdk_endpoints > 0 else urls
        sdk_job = Job(
            urls=tuple(sdk_urls),
            hosts_file=job.hosts_file,
            ca_bundle=job.ca_bundle,
            concurrency=spec.concurrency,
        )
        sdk_out = _run_side("sdk", sdk_job, work, spec.side_deadline)
        bare_job = Job(
            urls=job.urls,
            hosts_file=job.hosts_file,
            ca_bundle=job.ca_bundle,
            concurrency=spec.concurrency,
            replay_file=census_out,
        )
        bare_out = _run_side("bare", bare_job, work, spec.side_deadline)
    result: dict[str, Any] = {}
    for side, path, columns in (
        ("census", census_out, CENSUS_COLUMNS),
        ("sdk", sdk_out, SDK_COLUMNS),
        ("bare", bare_out, None),
    ):
        rows, stats = read_results(path)
        result[side] = side_summary(stats, rows, manifest, columns, spec.concurrency)
    census, sdk, bare = result["census"], result["sdk"], result["bare"]
    result["ratios"] = {
        "throughput_vs_sdk": _ratio(census["endpoints_per_s"], sdk["endpoints_per_s"]),
        "cpu_vs_bare": _ratio(census["cpu_ms_per_endpoint"], bare["cpu_ms_per_endpoint"]),
        "cpu_vs_sdk": _ratio(census["cpu_ms_per_endpoint"], sdk["cpu_ms_per_endpoint"]),
        "throughput_vs_bare": _ratio(census["endpoints_per_s"], bare["endpoints_per_s"]),
    }
    return result
