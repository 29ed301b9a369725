"""The `census` command: a thin typer layer.  Each command parses, builds settings, calls one
library function and renders; :class:`census.errors.CensusError` becomes one line and an exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from census import __version__
from census.config import load_settings
from census.errors import CensusError
from census.store import DatabaseTarget, make_engine, migrate, resolve_database
from census.store.engine import engine_disposed

app = typer.Typer(
    name="census",
    help="A census of public Model Context Protocol (MCP) endpoints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"census {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """A census of public Model Context Protocol (MCP) endpoints."""


db_app = typer.Typer(
    help="The census database: schema migrations and status.", no_args_is_help=True
)
app.add_typer(db_app, name="db")


def _database() -> tuple[DatabaseTarget, Engine]:
    target = resolve_database(load_settings())
    return target, make_engine(target.url, pool_size=1)


def _describe(target: DatabaseTarget) -> str:
    return target.display


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="Target revision (default: the newest)."),
) -> None:
    """Create or migrate the schema to the newest revision.

    Example: census db upgrade
    """
    target, engine = _database()
    with engine_disposed(engine):
        before = migrate.schema_status(engine, target.display)
        after = migrate.upgrade(engine, target.display, revision)
    applied = len(before.pending) - len(after.pending)
    console.print(f"database ({_describe(target)})")
    console.print(
        f"schema at revision [bold]{after.current}[/bold] ({applied} migration(s) applied)"
    )


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. base or -1."),
) -> None:
    """Revert the schema to an older revision (destroys data of the reverted tables).

    Example: census db downgrade base
    """
    target, engine = _database()
    with engine_disposed(engine):
        after = migrate.downgrade(engine, target.display, revision)
    console.print(f"database ({_describe(target)})")
    console.print(f"schema at revision {after.current or '(empty)'}")


@db_app.command("status")
def db_status() -> None:
    """Show which database census uses and its current and pending schema revisions.

    Example: census db status
    """
    target, engine = _database()
    with engine_disposed(engine):
        status = migrate.schema_status(engine, target.display)
    table = Table(show_header=False, box=None)
    table.add_row("database", _describe(target))
    table.add_row("current revision", status.current or "(empty database)")
    table.add_row("head revision", status.head)
    table.add_row("pending", ", ".join(status.pending) or "none")
    table.add_row("state", "up to date" if status.up_to_date else "run `census db upgrade`")
    console.print(table)


def _register_commands() -> None:
    # Each stage owns its commands; importing here keeps `census --help` complete.
    from census.bench import cli as bench_cli
    from census.crawl import cli as crawl_cli
    from census.discovery import cli as discovery_cli
    from census.findings import cli as findings_cli
    from census.probe import cli as probe_cli
    from census.report import cli as report_cli
    from census.testbed import cli as testbed_cli

    for module in (
        testbed_cli,
        discovery_cli,
        probe_cli,
        crawl_cli,
        report_cli,
        findings_cli,
        bench_cli,
    ):
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point: run the app, turning our own errors into one clear line and an exit code."""
    try:
        app()  # standalone: click prints usage errors itself and exits with code 2
    except CensusError as exc:
        err_console.print(f"[red]census: error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
