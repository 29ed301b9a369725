"""``census release``: a dated, citable folder of one complete run (census.release)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]

console = Console()
err_console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("release")(release_command)


def release_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder the dated release folder is written in.")
    ],
    run: Annotated[
        str, typer.Option("--run", help="A complete run's id, or 'latest' (complete).")
    ] = "latest",
) -> None:
    """Write OUT/census-<run date>-run<ID>/: the run's observations, endpoints, tools and
    listings as CSV and Parquet, datapackage.json (Frictionless), summary.json (headline with
    95% intervals), METHODOLOGY.md, CITATION.cff and SHA256SUMS.

    Example: census release --run 12 --out releases/
    """
    from census.release.build import SIMULATED_NOTICE, build_release  # loads pandas: only here
    from census.report.cli import _engine

    with _engine() as engine:
        release = build_release(engine, run, out)
    rows = ", ".join(f"{n:,} {table}" for table, n in release.rows.items())
    console.print(f"released run {release.run_id} to {release.folder} ({rows})", highlight=False)
    if release.simulated:
        err_console.print(SIMULATED_NOTICE, highlight=False)
