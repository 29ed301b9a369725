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
from census.report.diff import (
    DEBOUNCE_RULE,
    DIFF_COLUMNS,
    diff_runs,
    diff_to_json,
    incomplete_runs,
    print_diff,
    trend_changes,
)
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
    top: Annotated[int, typer.Option("--top", min=1, help="Rows of the top-N breakdowns.")] = 20,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw", help="--trend: count single-run status/auth/era changes (not debounced)."
        ),
    ] = False,
) -> None:
    """The headline table (every percentage with numerator and denominator) and breakdowns.

    Example: census report --format html --out census.html
    """
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if raw and not trend:
        raise UsageError("--raw goes with --trend (for two runs: census diff A B --raw)")
    with _engine() as engine:
        if trend:
            if fmt not in ("json", "table") or (fmt == "table" and out is not None):
                raise UsageError("--trend renders as table (terminal) or json")
            t = build_trend(engine, runs)
            changes = trend_changes(engine, t.runs, raw=raw)
            with engine.connect() as conn:
                skipped = incomplete_runs(conn, t.runs[0]) if t.runs else []
            if fmt == "json":
                _emit(_trend_json(trend_to_json(t), changes, skipped, raw), out)
            else:
                print_trend(t, console)
                _print_trend_changes(t.runs, changes, skipped, raw)
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


def _trend_json(
    text: str, changes: list[dict[str, int] | None], skipped: list[int], raw: bool
) -> str:
    """The trend's JSON with each run's status/auth/era changes since the previous run."""
    import json

    data = json.loads(text)
    for point, changed in zip(data["runs"], changes, strict=True):
        point["changes"] = changed
    data["changes_rule"] = "single-run changes (--raw)" if raw else DEBOUNCE_RULE
    data["skipped_incomplete_runs"] = skipped
    return json.dumps(data, indent=2) + "\n"


def _print_trend_changes(
    runs: tuple[int, ...], changes: list[dict[str, int] | None], skipped: list[int], raw: bool
) -> None:
    from rich.table import Table

    rule = "single-run changes (--raw)" if raw else "debounced: " + DEBOUNCE_RULE
    table = Table(
        title="Endpoints changed since the previous run", caption=rule, title_justify="left"
    )
    table.add_column("run")
    for col in DIFF_COLUMNS:
        table.add_column(col, justify="right")
    for run_id, changed in zip(runs, changes, strict=True):
        cells = (
            ["—"] * len(DIFF_COLUMNS)
            if changed is None
            else [f"{changed[c]:,}" for c in DIFF_COLUMNS]
        )
        table.add_row(str(run_id), *cells)
    console.print(table)
    if skipped:
        listed = ", ".join(str(r) for r in skipped)
        console.print(f"incomplete runs skipped (never compared): {listed}", highlight=False)


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
    if result.simulated:
        err_console.print("note: SIMULATED data (a simulated internet), not the real one")


def diff_command(
    run_a: Annotated[str, typer.Argument(help="The earlier run (id or 'latest').")],
    run_b: Annotated[str, typer.Argument(help="The later run (id or 'latest').")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows listed per change table.")] = 50,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="Single-run status/auth/era changes, instead of only the changes two"
            " consecutive complete runs agree on.",
        ),
    ] = False,
) -> None:
    """Endpoints new and gone; status, auth and era changes; tools added, removed, changed.

    A status, auth or era change counts only when two consecutive complete runs agree on the
    new value (--raw: every single-run change).  Both runs must be complete.

    Example: census diff 3 4 --format json
    """
    if fmt not in ("table", "json"):
        raise UsageError(f"--format must be table or json, not {fmt!r}")
    with _engine() as engine:
        d = diff_runs(engine, run_a, run_b, raw=raw)
    if fmt == "json":
        _emit(diff_to_json(d), out)
    elif out is None:
        print_diff(d, console, limit)
    else:
        with out.open("w", encoding="utf-8") as f:
            print_diff(d, Console(file=f, width=160, color_system=None), limit)
