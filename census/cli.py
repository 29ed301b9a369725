"""The `census` command: a thin typer layer.  Each command parses, builds settings, calls one
library function and renders; :class:`census.errors.CensusError` becomes one line and an exit code.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

# typer (0.29, pinned) vendors click; its exceptions are what the parser raises.
from typer._click import exceptions as click_errors

from census import __version__
from census.config import load_settings
from census.errors import CensusError
from census.safe_text import printable
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
    from census.release import cli as release_cli
    from census.report import cli as report_cli
    from census.sweep import cli as sweep_cli
    from census.testbed import cli as testbed_cli

    for module in (
        testbed_cli,
        discovery_cli,
        probe_cli,
        crawl_cli,
        report_cli,
        release_cli,
        findings_cli,
        bench_cli,
        sweep_cli,
    ):
        module.register(app)


_register_commands()


def fail_line(message: object) -> str:
    """One line for the user: remote or user text escaped, whitespace runs folded."""
    return printable(" ".join(str(message).split()))


def _usage_line(exc: click_errors.ClickException) -> str:
    line = fail_line(exc.format_message())
    path = getattr(getattr(exc, "ctx", None), "command_path", None)
    return f"{line} (see `{path} --help`)" if path else line


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(
        Text.assemble(("census: error: ", "red"), message), highlight=False, soft_wrap=True
    )
    sys.exit(code)


def main() -> None:
    """Entry point: run the app, turning every error we can name into one line and an exit code.

    Not standalone: click's own usage errors would otherwise be a multi-line box; here they are
    one line like ours, with the same exit code (2).
    """
    try:
        result = app(standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()  # `census` or `census db` alone: the help is what was asked for
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        _fail(_usage_line(exc), exc.exit_code)
    except typer.Abort:
        _fail("interrupted", 130)
    except CensusError as exc:
        _fail(fail_line(exc), exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
