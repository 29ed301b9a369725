"""``census sweep``: look for MCP endpoints on every domain of a list (staged, queued, polite).

Register with ``census.sweep.cli.register(app)`` (census/cli.py's command list).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from census.config import load_settings
from census.errors import CensusError, ConfigError, UsageError
from census.store import make_engine, migrate, resolve_database
from census.store.engine import engine_disposed
from census.store.observations import libpq_url
from census.sweep.jobs import (
    SWEEP_CHUNK,
    SweepProgress,
    chunk_domains,
    queue_sweep,
    read_domain_list,
    sweep_name,
    sweep_progress,
)
from census.sweep.model import SweepSettings

__all__ = ["register", "settings_for_world", "summary_table", "sweep_command"]

console = Console()
err_console = Console(stderr=True)
_DEFAULTS = SweepSettings()


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)


def settings_for_world(folder: Path, base: SweepSettings) -> SweepSettings:
    """Point a sweep at a simulated sweep world (its ``sweep.json``): its DNS server, its web
    server's port, plain HTTP, loopback allowed — the one seam between a sweep and a testbed."""
    try:
        meta = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        nameserver, port = str(meta["nameserver"]), int(meta["http_port"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{folder} is not a served sweep world (sweep.json): {exc}") from exc
    return SweepSettings(
        **{
            **{k: getattr(base, k) for k in base.__dataclass_fields__},
            "nameservers": (nameserver,),
            "scheme": "http",
            "port": port,
            "allow_loopback": True,
        }
    )


def summary_table(name: str, progress: SweepProgress, seconds: float | None) -> Table:
    counts = progress.counts
    table = Table(title=f"sweep {name}", show_header=False)
    domains = counts.get("domains", 0)
    rows = [
        ("chunks done", f"{progress.chunks_done} of {progress.chunks_total}"),
        ("domains swept", str(domains)),
        ("apex resolved (public)", str(counts.get("apex_ok", 0))),
        ("apex NXDOMAIN", str(counts.get("apex_nxdomain", 0))),
        ("apex SERVFAIL", str(counts.get("apex_servfail", 0))),
        ("apex timeout", str(counts.get("apex_timeout", 0))),
        ("apex refused (non-public address)", str(counts.get("apex_refused", 0))),
        ("mcp.<d> resolved", str(counts.get("mcp_ok", 0))),
        ("wildcard zones", str(counts.get("wildcard_zone", 0))),
        ("_mcp TXT records", str(counts.get("txt_record", 0))),
        ("domains visited over HTTP", str(counts.get("domains_with_http", 0))),
        ("HTTP requests", str(counts.get("requests", 0))),
        ("skipped_by_robots (requests)", str(counts.get("skipped_by_robots", 0))),
        ("candidates", str(counts.get("candidates", 0))),
    ]
    if seconds:
        rows.append(("seconds", f"{seconds:.1f} ({domains / seconds:.0f} domains/s)"))
    for key, value in rows:
        table.add_row(key, value)
    return table


def sweep_command(
    domains: Annotated[
        Path, typer.Option("--domains", help="The domain list: one domain a line, # comments.")
    ],
    name: Annotated[
        str | None,
        typer.Option(help="The sweep's name (default: from the list's content; re-run to resume)."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Domains per job.")] = 5000,
    testbed: Annotated[
        Path | None,
        typer.Option(help="A served sweep world's folder (`python -m census.testbed.sweepworld`)."),
    ] = None,
    nameserver: Annotated[
        list[str] | None,
        typer.Option(help="A DNS server to ask (ADDRESS or ADDRESS:PORT); default: the system's."),
    ] = None,
    dns_in_flight: Annotated[
        int, typer.Option(help="Domains being resolved at once, per job.")
    ] = _DEFAULTS.dns_domains_in_flight,
    in_flight: Annotated[
        int, typer.Option(help="HTTP requests in flight, per job.")
    ] = _DEFAULTS.http_in_flight,
    opt_out: Annotated[
        list[Path] | None, typer.Option(help="More opt-out rules (seeds/opt-out.txt always).")
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Only queue the jobs; `census worker`s run them.")
    ] = False,
) -> None:
    """Sweep a domain list for MCP endpoints: DNS first, then robots.txt, the well-known
    documents and the conventional paths, at most one request per second per domain.

    The list is split into jobs on the crawl queue; running the same command again resumes
    (finished chunks are kept).  Found endpoints are stored as a discovery source named after
    the sweep; `census crawl` probes them with every other listed endpoint.

    Example: census sweep --domains top-1m.txt
    """
    from census.crawl.worker import make_app
    from census.discovery.cli import default_seeds_dir
    from census.discovery.optout import load_opt_out

    if chunk_size < 1 or dns_in_flight < 1 or in_flight < 1:
        raise UsageError("--chunk-size, --dns-in-flight and --in-flight must be positive")
    listed = read_domain_list(domains)
    files = list(opt_out or ())
    seeds = default_seeds_dir()
    if seeds is not None and (seeds / "opt-out.txt").exists():
        files.insert(0, seeds / "opt-out.txt")
    rules = load_opt_out(files)
    kept = [d for d in listed if not rules.matches(f"https://{d}/")]
    settings = SweepSettings(
        nameservers=tuple(nameserver or ()),
        dns_domains_in_flight=dns_in_flight,
        http_in_flight=in_flight,
    )
    if testbed is not None:
        settings = settings_for_world(testbed, settings)
    label = name or sweep_name(listed)
    chunks = chunk_domains(kept, chunk_size)
    config = load_settings()
    target = resolve_database(config)
    engine = make_engine(target.url, pool_size=2)
    with engine_disposed(engine):
        if not migrate.schema_status(engine, target.display).up_to_date:
            migrate.upgrade(engine, target.display)

        async def enqueue() -> int:
            app = make_app(libpq_url(target.url))
            async with app.open_async():
                return await queue_sweep(engine, app, label, chunks, settings, rules)

        queued = anyio.run(enqueue)
        err_console.print(
            f"sweep {label}: {len(kept)} domains ({len(listed) - len(kept)} opted out) in"
            f" {len(chunks)} job(s), {queued} queued"
            + ("; start workers with `census worker`" if no_worker else "")
        )
        if no_worker:
            return
        started = time.monotonic()
        final = anyio.run(
            _work_until_done, target.url, config.user_agent, engine, label, len(chunks)
        )
        console.print(summary_table(label, final, time.monotonic() - started))
        if not final.complete:
            raise CensusError(
                f"sweep {label} incomplete: {final.chunks_done} of {final.chunks_total} jobs"
                " done; run the same command again to finish it"
            )


async def _queued(database_url: str, name: str) -> bool:
    """Whether a job of this sweep is still waiting or running."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        cur = await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs"
            " WHERE task_name = %s AND args ->> 'sweep' = %s AND status IN ('todo', 'doing'))",
            (SWEEP_CHUNK, name),
        )
        row = await cur.fetchone()
    return bool(row and row[0])


async def _work_until_done(
    database_url: str, user_agent: str, engine: Engine, name: str, total: int
) -> SweepProgress:
    """Run a worker in this process until every chunk of the sweep is stored (or Ctrl-C)."""
    from census.crawl.engine import work
    from census.crawl.settings import CrawlSettings

    last = await anyio.to_thread.run_sync(sweep_progress, engine, name, total)
    if last.complete:
        return last
    async with anyio.create_task_group() as group:

        async def worker() -> None:
            await work(database_url, CrawlSettings(), user_agent)
            group.cancel_scope.cancel()  # stopped by a signal

        async def watch() -> None:
            nonlocal last
            shown, idle = -1.0, 0
            while True:
                last = await anyio.to_thread.run_sync(sweep_progress, engine, name, total)
                now = time.monotonic()
                if last.complete or now - shown >= 10:
                    shown = now
                    err_console.print(
                        f"sweep {name}: {last.chunks_done}/{total} jobs done,"
                        f" {last.counts.get('domains', 0)} domains,"
                        f" {last.counts.get('candidates', 0)} candidates"
                    )
                idle = 0 if last.complete else idle + (not await _queued(database_url, name))
                # Every job finished, some without storing (failed after their retries): stop.
                if last.complete or idle >= 3:
                    group.cancel_scope.cancel()
                    return
                await anyio.sleep(1.0)

        group.start_soon(worker)
        group.start_soon(watch)
    return last
