"""``census bench``: census against an SDK-built prober and a bare aiohttp loop.

Register with ``census.bench.cli.register(app)`` (census/cli.py's command list).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from census.bench.measure import BenchSpec, run_bench
from census.bench.targets import MIXES
from census.errors import UsageError

__all__ = ["bench_command", "register", "render_table"]

console = Console()
_DEFAULTS = BenchSpec()


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)


def render_table(result: dict[str, Any]) -> Table:
    """The sides in rows, the measures in columns, then the ratios in the caption."""
    table = Table(title="census bench")
    for column in (
        "side",
        "endpoints",
        "endpoints/s",
        "CPU ms/endpoint",
        "peak RSS MB",
        "agreement",
        "agreement (SDK columns)",
    ):
        table.add_column(column, justify="left" if column == "side" else "right")
    for side in ("census", "sdk", "bare"):
        s = result[side]

        def pct(value: Any) -> str:
            return "–" if value is None else f"{100 * value:.1f}%"

        table.add_row(
            side,
            str(s["endpoints"]),
            f"{s['endpoints_per_s']:.1f}",
            f"{s['cpu_ms_per_endpoint']:.2f}",
            f"{s['peak_rss_mb']:.0f}",
            pct(s["agreement"]),
            pct(s.get("agreement_sdk_columns")),
        )
    ratios = result["ratios"]
    table.caption = "  ".join(f"{k} {v}" for k, v in ratios.items())
    if "writes_per_s" in result["census"]:
        table.caption += f"  observation writes {result['census']['writes_per_s']:.0f} rows/s"
    return table


def bench_command(
    endpoints: Annotated[
        int, typer.Option("--endpoints", "-n", help="URLs each side probes.")
    ] = _DEFAULTS.endpoints,
    concurrency: Annotated[
        int, typer.Option(help="Probes in flight, the same for every side.")
    ] = _DEFAULTS.concurrency,
    mix: Annotated[
        str,
        typer.Option(
            help="target (10% blackholes, 20-200 ms latency) | realistic | uniform | hostile."
        ),
    ] = _DEFAULTS.mix,
    seed: Annotated[int, typer.Option(help="Simulated internet's seed.")] = _DEFAULTS.seed,
    sdk_endpoints: Annotated[
        int,
        typer.Option(help="Probe only the first N URLs with the (slow) SDK side; 0 = all."),
    ] = _DEFAULTS.sdk_endpoints,
    writes: Annotated[
        bool,
        typer.Option(
            "--writes", help="Also time observation writes (COPY) into a scratch database."
        ),
    ] = False,
    work_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the testbed and each side's results here (default: a temp dir)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    domains: Annotated[
        int,
        typer.Option(help="Instead: sweep N simulated domains (`census sweep`) and measure it."),
    ] = 0,
) -> None:
    """Census vs the official MCP SDK vs a bare aiohttp loop on one simulated internet.

    Each side runs in its own process over the same URLs at the same concurrency; reported per
    side: endpoints/s, CPU ms per endpoint, peak RSS, agreement with the planted ground truth.

    Example: census bench --endpoints 2000 --json
    """
    if domains:
        from census.sweep.bench import bench_command as sweep_bench

        sweep_bench(domains, seed, work_dir, as_json)
        return
    if endpoints < 1 or concurrency < 1 or sdk_endpoints < 0:
        raise UsageError("--endpoints and --concurrency must be positive")
    if mix not in MIXES:
        raise UsageError(f"--mix must be one of {', '.join(MIXES)}")
    spec = BenchSpec(
        endpoints=endpoints,
        concurrency=concurrency,
        mix=mix,
        seed=seed,
        sdk_endpoints=sdk_endpoints,
    )
    if work_dir is not None:
        result = run_bench(spec, work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="census-bench-") as tmp:
            result = run_bench(spec, Path(tmp))
    if writes:
        from census.bench.writes import measure_writes
        from census.config import load_settings

        measured = measure_writes(load_settings())
        result["census"]["writes_per_s"] = round(measured.rows_per_s)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        console.print(render_table(result))
