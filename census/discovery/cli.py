"""``census discover``: read discovery sources and store what they list.

The command parses options into :class:`census.discovery.plan.DiscoverOptions`, plans the
sources (every user input checked before any request), reads each source with
:func:`census.discovery.pipeline.collect` and stores each read with
:func:`census.store.discovery.record_source_read` (this module is where the two stages meet),
then prints one summary row per source.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from census.config import load_settings
from census.discovery.http import HttpPolicy
from census.discovery.normalize import PLATFORM_MIN_ENDPOINTS
from census.discovery.optout import OptOut
from census.discovery.pipeline import SourceResult, collect
from census.discovery.plan import (
    SOURCE_NAMES,
    DiscoverOptions,
    parse_since,
    plan_opt_out,
    plan_sources,
)
from census.discovery.smithery import API_KEY_ENV
from census.discovery.source import ReadLog, Source
from census.errors import SchemaMismatch
from census.store import make_engine, migrate, resolve_database
from census.store.discovery import StoredRead, record_source_read
from census.store.engine import engine_disposed

__all__ = ["SourceOutcome", "default_seeds_dir", "discover", "register", "summary_table"]

console = Console()
_NONE: list[str] = []
_NO_PATHS: list[Path] = []


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    result: SourceResult
    stored: StoredRead


def default_seeds_dir() -> Path | None:
    """``./seeds`` when run from a checkout, else the seeds folder beside the package."""
    for candidate in (Path.cwd() / "seeds", Path(__file__).resolve().parents[2] / "seeds"):
        if candidate.is_dir():
            return candidate
    return None


async def discover(
    sources: Sequence[Source],
    opt_out: OptOut,
    engine: Engine,
    progress: Progress | None = None,
) -> list[SourceOutcome]:
    """Read every source in turn and store each read as soon as it ends."""
    outcomes: list[SourceOutcome] = []
    for source in sources:
        task = progress.add_task(source.name, total=None) if progress is not None else None

        def advance(log: ReadLog, task: object = task) -> None:
            if progress is not None and task is not None:
                progress.update(task, completed=log.entries, total=log.expected)  # type: ignore[arg-type]

        result = await collect(
            source, opt_out, since=getattr(source, "since", None), progress=advance
        )
        with engine.begin() as conn:
            stored = record_source_read(conn, result, platform_min_endpoints=PLATFORM_MIN_ENDPOINTS)
        if progress is not None and task is not None:
            progress.update(task, completed=result.entries, total=result.entries)
        outcomes.append(SourceOutcome(result, stored))
    return outcomes


def summary_table(outcomes: Sequence[SourceOutcome]) -> Table:
    """One row per source: entries, remote URLs, new endpoints, duplicates, rejections."""
    table = Table(title="discovery")
    for column in ("source", "entries", "remote URLs", "new endpoints", "duplicates"):
        table.add_column(column, justify="left" if column == "source" else "right")
    table.add_column("rejected by reason")
    table.add_column("read")
    for outcome in outcomes:
        result = outcome.result
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(result.rejected.items())) or "-"
        state = "complete" if result.complete else f"incomplete: {result.error}"
        if result.log.incidents:
            state += f" ({len(result.log.incidents)} incident(s) survived)"
        table.add_row(
            result.name,
            str(result.entries),
            str(result.remote_urls),
            str(outcome.stored.new_endpoints),
            str(result.duplicates),
            rejected,
            state,
        )
    return table


def register(app: typer.Typer) -> None:
    """Add this package's commands to the top-level app."""
    app.command("discover")(discover_command)


def discover_command(
    source: Annotated[
        list[str],
        typer.Option("--source", "-s", help=f"Read only these: {', '.join(SOURCE_NAMES)}."),
    ] = _NONE,
    registry: Annotated[
        list[str],
        typer.Option(help="Also read a registry with the official API: URL or NAME=URL."),
    ] = _NONE,
    seed_file: Annotated[
        list[Path],
        typer.Option(help="Also read a seed file (.txt, .csv, .jsonl or a registry .json)."),
    ] = _NO_PATHS,
    domains: Annotated[
        Path | None, typer.Option(help="Find endpoints of the apex domains listed in FILE.")
    ] = None,
    docker: Annotated[
        Path | None, typer.Option(help="Docker MCP catalog folder (servers/*/server.yaml).")
    ] = None,
    awesome: Annotated[
        str | None, typer.Option(help="Awesome-list Markdown file or URL (default: jaw9c's).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Registries: only entries updated since DATE.")
    ] = None,
    testbed: Annotated[
        Path | None, typer.Option(help="Read the mirrors of a simulated internet (its --out DIR).")
    ] = None,
    opt_out: Annotated[
        list[Path], typer.Option(help="Extra opt-out FILE (hosts, domains, URL prefixes).")
    ] = _NO_PATHS,
    min_interval: Annotated[
        float, typer.Option(help="Seconds between requests to one registry (politeness).")
    ] = 1.0,
) -> None:
    """Find MCP endpoints in registries, catalogues, lists, seed files and domains; store them.

    Example: census discover --source official --source docker --docker ./mcp-registry
    """
    settings = load_settings()
    options = DiscoverOptions(
        sources=tuple(source),
        registries=tuple(registry),
        seed_files=tuple(seed_file),
        domains_file=domains,
        docker_dir=docker,
        awesome=awesome,
        since=parse_since(since) if since else None,
        testbed=testbed,
        opt_out_files=tuple(opt_out),
        seeds_dir=default_seeds_dir(),
        # The CLI is the one place allowed to read the environment; the key travels as a value.
        smithery_key=os.environ.get(API_KEY_ENV) or None,
        min_interval=max(0.0, min_interval),
        policy=HttpPolicy(user_agent=settings.user_agent.replace(")", "; discovery)")),
    )
    planned = plan_sources(options)
    rules = plan_opt_out(options)
    target = resolve_database(settings)
    engine = make_engine(target.url, pool_size=1)
    with engine_disposed(engine):
        status = migrate.schema_status(engine, target.display)
        if not status.up_to_date:
            raise SchemaMismatch(
                f"the database at {target.display} is not at the newest schema: "
                "run `census db upgrade`"
            )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            outcomes = anyio.run(discover, planned, rules, engine, progress)
    console.print(summary_table(outcomes))
    for outcome in outcomes:
        name = outcome.result.name
        for incident in outcome.result.log.incidents[:20]:
            console.print(f"  {name}: {incident}", highlight=False)
        for reason, urls in sorted(outcome.result.rejected_examples.items()):
            console.print(f"  {name}: rejected {reason}, e.g. {', '.join(urls)}", highlight=False)
