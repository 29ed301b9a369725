"""``census report``, ``census export`` and ``census diff``: thin commands over census.report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from census.config import load_settings
from census.errors import UsageError
from census.report.build import build_report, build_trend
from census.report.diff import diff_runs, diff_to_json, print_diff
from census.report.render import (
    FORMATS,
    print_report,
    print_trend,
    to_csv,
    to_html,
    to_json,
    to_markdown,
    trend_to_json,
)
from census.report.safety import clean_text
from census.report.schema import TABLES
from census.store import make_engine, resolve_database
from census.store.engine import connect_error, engine_disposed

__all__ = ["register"]

console = Console()
err_console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("export")(export_command)
    app.command("diff")(diff_command)


@contextmanager
def _engine() -> Iterator[Engine]:
    target = resolve_database(load_settings())
    engine = make_engine(target.url, pool_size=1)
    with engine_disposed(engine):
        try:
            yield engine
        except DBAPIError as exc:  # translated once, here: the user gets one line
            raise connect_error(exc, target.display) from exc


def _emit(text: str, out: Path | None) -> None:
    """Write a rendered document to ``out``, or to stdout (cleaned when stdout is a terminal)."""
    if out is not None:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}", highlight=False)
        return
    sys.stdout.write(clean_text(text, keep_newlines=True) if sys.stdout.isatty() else text)


def report_command(
    run: Annotated[str, typer.Option("--run", help="Run id or 'latest'.")] = "latest",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table | markdown | json | csv | html.")
    ] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    trend: Annotated[
        bool, typer.Option("--trend", help="Key shares over the last runs instead.")
    ] = False,
    runs: Annotated[int, typer.Option("--runs", help="How many runs --trend covers.")] = 5,
    top: Annotated[int, typer.Option("--top", help="Rows of the top-N breakdowns.")] = 20,
) -> None:
    """The headline table (every percentage with numerator and denominator) and breakdowns.

    Example: census report --format html --out census.html
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with _engine() as engine:
        if trend:
            t = build_trend(engine, runs)
            if fmt == "json":
                _emit(trend_to_json(t), out)
            elif fmt == "table" and out is None:
                print_trend(t, console)
            else:
                raise UsageError("--trend renders as table (terminal) or json")
            return
        report = build_report(engine, run, top)
        if fmt == "table":
            if out is None:
                print_report(report, console)
            else:
                with out.open("w", encoding="utf-8") as f:
                    print_report(report, Console(file=f, width=160, color_system=None))
            return
        trend_data = build_trend(engine, runs) if fmt == "html" else None
    if fmt == "html":
        text = to_html(report, trend_data)
    else:
        text = {"markdown": to_markdown, "json": to_json, "csv": to_csv}[fmt](report)
    _emit(text, out)


def export_command(
    table: Annotated[
        str,
        typer.Argument(
            help="observations | endpoints | tools | listings | checklist (per-check columns"
            " and score) | tiers (maintenance tier and impersonation per registry listing)."
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | parquet | jsonl.")] = "csv",
    out: Annotated[str, typer.Option("--out", "-o", help="File path, or - for stdout.")] = "-",
    run: Annotated[
        str | None,
        typer.Option("--run", help="Run id or 'latest' (observations/tools default: latest)."),
    ] = None,
) -> None:
    """Export one table with the vocabulary's column names, streamed in bounded memory.

    Example: census export observations --run latest --format parquet --out obs.parquet
    """
    from census.report.export import EXPORT_FORMATS, export_table  # loads pandas: only here

    if table not in TABLES:
        raise UsageError(f"TABLE must be one of {', '.join(TABLES)}, not {table!r}")
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    with _engine() as engine:
        result = export_table(engine, table, fmt, out, run)
    if result.path != "-":
        scope = f"run {result.run_id}" if result.run_id is not None else "all runs"
        err_console.print(
            f"exported {result.rows:,} {table} rows ({scope}) to {result.path}", highlight=False
        )


def diff_command(
    run_a: Annotated[str, typer.Argument(help="The earlier run (id or 'latest').")],
    run_b: Annotated[str, typer.Argument(help="The later run (id or 'latest').")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows listed per change table.")] = 50,
) -> None:
    """Endpoints new and gone; status, auth and era changes; tools added, removed, changed.

    Example: census diff 3 4 --format json
    """
    if fmt not in ("table", "json"):
        raise UsageError(f"--format must be table or json, not {fmt!r}")
    with _engine() as engine:
        d = diff_runs(engine, run_a, run_b)
    if fmt == "json":
        _emit(diff_to_json(d), out)
    elif out is None:
        print_diff(d, console, limit)
    else:
        with out.open("w", encoding="utf-8") as f:
            print_diff(d, Console(file=f, width=160, color_system=None), limit)
