"""``python -m census.bench [OPTIONS]``: the ``census bench`` command on its own (the same
function ``census.cli`` registers as ``census bench``)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from census.bench.cli import bench_command
from census.errors import CensusError


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(bench_command)
    try:
        app()
    except CensusError as exc:
        Console(stderr=True).print(f"[red]census: error:[/red] {exc}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
