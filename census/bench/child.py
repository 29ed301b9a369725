"""One side of the bench in a process of its own: ``python -m census.bench.child SIDE JOB OUT``.

A process per side makes the peak RSS and the CPU time that side's alone (``getrusage`` of this
process).  One-time process set-up (imports, census's tokenizer tables) runs before the clock
starts and is reported apart as ``startup_cpu_s``: a crawl worker pays it once for its whole life.
Results go to ``OUT`` as JSON lines ``{"url", "row", "extra"}``; the last line is the
side's measurements ``{"stats": {...}}``.  The CPU spent writing that file is bench bookkeeping,
not probing: it is measured and subtracted.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from census.bench.sides import SIDES, Job, warm_up

__all__ = ["main", "run_side"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_side(side: str, job: Job, out: Path) -> dict[str, Any]:
    """Run one side over the job's URLs, writing results to ``out``; returns the stats."""
    prober = SIDES[side]
    bookkeeping = 0.0
    emitted = 0
    with out.open("w", encoding="utf-8") as f:

        def emit(url: str, row: dict[str, Any] | None, extra: dict[str, Any] | None) -> None:
            nonlocal bookkeeping, emitted
            # perf_counter, not process_time: a CPU clock read is a ~1 ms syscall here (measured
            # with cProfile), and this synchronous write never yields, so wall time is CPU time.
            t0 = time.perf_counter()
            f.write(json.dumps({"url": url, "row": row, "extra": extra}, default=str) + "\n")
            emitted += 1
            bookkeeping += time.perf_counter() - t0

        startup0 = _cpu()
        warm_up(side)
        startup = _cpu() - startup0
        cpu0, wall0 = _cpu(), time.perf_counter()
        try:
            anyio.run(prober, job, emit, backend_options={"use_uvloop": True})
        except ImportError:  # uvloop missing on this platform: plain asyncio for every side
            anyio.run(prober, job, emit)
        wall = time.perf_counter() - wall0
        cpu = _cpu() - cpu0 - bookkeeping
        stats = {
            "side": side,
            "endpoints": emitted,
            "wall_s": wall,
            "cpu_s": cpu,
            "bookkeeping_cpu_s": bookkeeping,
            "startup_cpu_s": startup,
            # ru_maxrss is KiB on Linux: the whole life of this process, imports included.
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        f.write(json.dumps({"stats": stats}) + "\n")
    return stats


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in SIDES:
        print(f"usage: python -m census.bench.child {{{','.join(SIDES)}}} JOB OUT", file=sys.stderr)
        return 2
    _raise_nofile()
    job = Job.from_json(Path(argv[1]).read_text(encoding="utf-8"))
    run_side(argv[0], job, Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
