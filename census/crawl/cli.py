"""``census crawl``, ``census worker`` and ``census demo``: where discovery, the queue, the prober
and the store meet."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from census.config import Settings, load_settings
from census.crawl.engine import (
    CrawlRequest,
    RunProgress,
    add_schedule,
    resume_run,
    start_run,
    work,
)
from census.crawl.pipeline import Discovered, DiscoverySpec, run_discovery
from census.crawl.settings import CrawlSettings
from census.crawl.worker import make_app
from census.discovery.cli import summary_table
from census.errors import CensusError, ConfigError, UsageError
from census.store import make_engine, migrate, resolve_database
from census.store.engine import DatabaseTarget, engine_disposed
from census.store.observations import libpq_url
from census.testbed.process import ServedTestbed
from census.vocabulary import RunStatus

__all__ = ["register"]

console = Console()
err_console = Console(stderr=True)
log = logging.getLogger("census.crawl")
_NONE: list[str] = []
_DEFAULTS = CrawlSettings()
T = TypeVar("T")
_NO_PATHS: list[Path] = []


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl_command)
    app.command("worker")(worker_command)
    app.command("schedule")(schedule_command)
    app.command("demo")(demo_command)


def _run_fast(fn: Callable[[], Awaitable[T]]) -> T:
    """Run the crawl's event loop on uvloop where available (far less memory per TLS
    connection than stock asyncio, and less CPU per request)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return anyio.run(fn)
    return anyio.run(fn, backend_options={"use_uvloop": True})


# --- shared pieces ---------------------------------------------------------------------------


@contextmanager
def _crawl_log(settings: Settings) -> Iterator[Path | None]:
    """Send the crawl's log (a bug of ours with its traceback, a shard retried) to
    ``$CENSUS_HOME/logs/crawl.log``: the terminal gets the progress and, on failure, one line.
    """
    path = settings.home / "logs" / "crawl.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:  # an unwritable home: keep Python's default (warnings on stderr)
        yield None
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()


@contextmanager
def _database(settings: Settings) -> Iterator[tuple[DatabaseTarget, Engine]]:
    """The database, migrated to the newest schema (a crawl on a fresh machine just works)."""
    target = resolve_database(settings)
    engine = make_engine(target.url, pool_size=2)
    with engine_disposed(engine):
        status = migrate.schema_status(engine, target.display)
        if not status.up_to_date:
            migrate.upgrade(engine, target.display)
            console.print(
                f"schema migrated to {migrate.schema_status(engine, target.display).head}"
            )
        yield target, engine


def _testbed_probe_options(folder: Path) -> dict[str, object]:
    """The hosts file, CA bundle and loopback allowance a simulated internet's folder names."""
    meta_path = folder / "testbed.json"
    if not meta_path.exists():
        raise ConfigError(
            f"{folder} is not a testbed folder (no testbed.json): see `census testbed serve`"
        )
    try:
        json.loads(meta_path.read_text())
    except ValueError as exc:
        raise ConfigError(f"{meta_path} is not valid JSON") from exc
    return {
        "hosts_file": str((folder / "hosts").resolve()),
        "ca_bundle": str((folder / "ca.pem").resolve()),
        # The hosts file admits its own loopback addresses; every other private address in it
        # (planted on purpose) must still be refused, so private targets stay forbidden.
        "allow_private": False,
    }


def _discover(engine: Engine, settings: Settings, spec: DiscoverySpec) -> Discovered:
    """Run discovery for what the command names and show its summary table."""
    found = anyio.run(run_discovery, engine, spec, settings.user_agent)
    if found.outcomes:
        console.print(summary_table(found.outcomes))
    return found


class _Reporter:
    """A rich progress bar on a terminal, a plain line every few seconds otherwise."""

    def __init__(self, total: int, every: float = 10.0) -> None:
        self.total = total
        self.tty = console.is_terminal
        self.every = every
        self.last_line = 0.0
        self.progress = Progress(
            TextColumn("crawl"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("crawl", total=total, rate="0.0", counts="")
        self.started = time.monotonic()

    def __enter__(self) -> _Reporter:
        if self.tty:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tty:
            self.progress.stop()

    def __call__(self, p: RunProgress) -> None:
        elapsed = max(1e-6, time.monotonic() - self.started)
        counts = " ".join(f"{k} {v}" for k, v in sorted(p.by_status.items()))
        if p.status == RunStatus.CONFIRMING:  # first pass over: second probes under way
            counts += " (confirming)"
        rate = f"{p.done / elapsed:.1f}"
        if self.tty:
            self.progress.update(self.task, completed=p.done, rate=rate, counts=counts)
        elif time.monotonic() - self.last_line >= self.every or p.status == "complete":
            self.last_line = time.monotonic()
            print(f"run {p.run_id}: {p.done}/{p.total} observed, {rate}/s, {counts}", flush=True)


def _summary(p: RunProgress, seconds: float) -> Table:
    table = Table(title=f"run {p.run_id}: {p.status}")
    table.add_column("status")
    table.add_column("endpoints", justify="right")
    table.add_column("share", justify="right")
    for status, n in sorted(p.by_status.items(), key=lambda kv: -kv[1]):
        table.add_row(status, str(n), f"{100 * n / max(1, p.done):.1f}%")
    table.add_row("total observed", f"{p.done}/{p.total}", f"{seconds:.1f} s", style="bold")
    return table


def _crawl(
    target: DatabaseTarget,
    engine: Engine,
    settings: Settings,
    request: CrawlRequest | None,
    resume: int | None,
    run_worker: bool,
) -> RunProgress | None:
    crawl = request.crawl if request else CrawlSettings()

    async def enqueue() -> int:
        app = make_app(libpq_url(target.url))
        async with app.open_async():
            if resume is not None:
                queued = await resume_run(engine, app, resume)
                console.print(f"run {resume}: {queued} shard(s) queued again")
                return resume
            assert request is not None
            return await start_run(engine, app, request)

    run_id = anyio.run(enqueue)
    from census.crawl.engine import progress as run_progress

    first = run_progress(engine, run_id)
    console.print(
        f"run {run_id}: {first.total} endpoints in {first.shards_total} shard(s)"
        + ("" if run_worker else " queued; start workers with `census worker`")
    )
    if not run_worker:
        return first
    started = time.monotonic()
    with _Reporter(first.total) as reporter:
        final = _run_fast(
            lambda: work(
                target.url,
                crawl,
                settings.user_agent,
                until_run=run_id,
                engine=engine,
                on_progress=reporter,
            )
        )
    if final is not None:
        console.print(_summary(final, time.monotonic() - started))
        if final.status == RunStatus.FAILED:
            raise CensusError(
                f"run {run_id} failed: {final.shards_failed} of {final.shards_total} shard(s)"
                f" failed after their retries ({final.done}/{final.total} endpoints observed);"
                f" finish it with `census crawl --resume {run_id}`"
            )
        if final.status != RunStatus.COMPLETE:
            raise CensusError(
                f"run {run_id} {final.status} ({final.done}/{final.total} endpoints observed);"
                f" finish it with `census crawl --resume {run_id}`"
            )
    return final


#: The confirmation delay on a simulated internet: its flapping endpoints change state per visit
#: (a request after 1 s of silence starts a new one, census.testbed.flapping), not per minute,
#: so two seconds exercise exactly what ten minutes do on the real internet.
SIMULATED_CONFIRM_DELAY = 2.0


def _confirm_delay(given: float | None, *, simulated: bool) -> float:
    if given is not None:
        return given
    return SIMULATED_CONFIRM_DELAY if simulated else _DEFAULTS.confirm_delay


def _spec(
    sources: Sequence[str],
    registries: Sequence[str],
    seed_files: Sequence[Path],
    testbed: Path | None,
    opt_out: Sequence[Path],
) -> DiscoverySpec:
    return DiscoverySpec(
        sources=tuple(sources),
        registries=tuple(registries),
        seed_files=tuple(str(p.resolve()) for p in seed_files),
        testbed=str(testbed.resolve()) if testbed else None,
        opt_out_files=tuple(str(p.resolve()) for p in opt_out),
        # The CLI is the one place that reads the environment; the key travels as a value.
        smithery_key=os.environ.get("SMITHERY_MCP_API_KEY") or None,
        min_interval=0.0 if testbed else 1.0,
    )


# --- commands --------------------------------------------------------------------------------


def crawl_command(
    seed_file: Annotated[
        list[Path], typer.Option(help="Discover from a seed file first.")
    ] = _NO_PATHS,
    source: Annotated[
        list[str],
        typer.Option(
            "--source",
            "-s",
            help="Discover from these sources first: official, github, docker, smithery,"
            " awesome, seeds, domains.",
        ),
    ] = _NONE,
    registry: Annotated[
        list[str], typer.Option(help="Discover from a registry with the official API (URL).")
    ] = _NONE,
    testbed: Annotated[
        Path | None,
        typer.Option(help="Crawl a simulated internet: its `testbed serve --out` folder."),
    ] = None,
    allow_private: Annotated[
        bool, typer.Option(help="Allow private and loopback addresses (local tests only).")
    ] = False,
    hosts_file: Annotated[
        Path | None, typer.Option(help="Resolve names from this hosts file only.")
    ] = None,
    ca_bundle: Annotated[
        Path | None, typer.Option(help="Trust this CA bundle instead of the system store.")
    ] = None,
    opt_out: Annotated[
        list[Path], typer.Option(help="Extra opt-out FILE (hosts, domains, URL prefixes).")
    ] = _NO_PATHS,
    concurrency: Annotated[
        int, typer.Option(help="Probes in flight in this process.")
    ] = _DEFAULTS.concurrency,
    per_host_rate: Annotated[
        float, typer.Option(help="Requests per second to one host.")
    ] = _DEFAULTS.per_host_rate,
    per_host_connections: Annotated[
        int, typer.Option(help="Simultaneous requests to one host.")
    ] = _DEFAULTS.per_host_connections,
    shard_size: Annotated[
        int,
        typer.Option(help="Endpoints per shard (whole hosts per shard; one queue job each)."),
    ] = _DEFAULTS.shard_size,
    resume: Annotated[
        int | None, typer.Option(help="Finish the stopped run RUN instead of starting one.")
    ] = None,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker", help="Only queue the run; `census worker` processes do the probing."
        ),
    ] = False,
    confirm_delay: Annotated[
        float | None,
        typer.Option(
            help="Seconds between an endpoint's first probe and its confirmation probe (a"
            " transient-looking failure is probed again; default 600, or 2 on a --testbed)."
        ),
    ] = None,
    no_confirm: Annotated[
        bool,
        typer.Option("--no-confirm", help="Probe every endpoint once: no confirmation probes."),
    ] = False,
) -> None:
    """Crawl: discover from what is named, create a run, shard it, probe it, print a summary.

    Example: census crawl --testbed /tmp/tb
    """
    settings = load_settings()
    if concurrency < 1 or per_host_rate <= 0 or per_host_connections < 1 or shard_size < 1:
        raise UsageError(
            "--concurrency, --per-host-rate, --per-host-connections and --shard-size must be"
            " positive"
        )
    if confirm_delay is not None and confirm_delay < 0:
        raise UsageError("--confirm-delay must be zero or more seconds")
    crawl = CrawlSettings(
        concurrency=concurrency,
        per_host_rate=per_host_rate,
        per_host_connections=per_host_connections,
        shard_size=shard_size,
        confirm=not no_confirm,
        confirm_delay=_confirm_delay(confirm_delay, simulated=testbed is not None),
    )
    with _crawl_log(settings), _database(settings) as (target, engine):
        request = None
        if resume is None:
            probe_opts: dict[str, object] = {}
            if testbed is not None:
                probe_opts = _testbed_probe_options(testbed)
            found = _discover(
                engine, settings, _spec(source, registry, seed_file, testbed, opt_out)
            )
            request = CrawlRequest(
                allow_private=allow_private or bool(probe_opts.get("allow_private")),
                hosts_file=str(hosts_file.resolve())
                if hosts_file
                else probe_opts.get("hosts_file"),  # type: ignore[arg-type]
                ca_bundle=str(ca_bundle.resolve()) if ca_bundle else probe_opts.get("ca_bundle"),  # type: ignore[arg-type]
                optout_hosts=tuple(sorted(found.optout_hosts)),
                sources=found.source_names,
                testbed=str(testbed.resolve()) if testbed else None,
                crawl=crawl,
            )
        # A run that does not complete raises a one-line CensusError (exit 1) in _crawl.
        _crawl(target, engine, settings, request, resume, run_worker=not no_worker)


def worker_command(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Probes in flight in this process.")
    ] = _DEFAULTS.concurrency,
) -> None:
    """Work the crawl queue until stopped (SIGINT/SIGTERM): start more of these to scale out.

    Example: DATABASE_URL=postgresql://census@db/census census worker --concurrency 200
    """
    settings = load_settings()
    with _database(settings) as (target, _engine):
        console.print(f"worker on {target.display}; stop with Ctrl-C")
        _run_fast(
            lambda: work(target.url, CrawlSettings(concurrency=concurrency), settings.user_agent)
        )


def schedule_command(
    cron: Annotated[
        str | None, typer.Option(help='When to crawl, e.g. "0 3 * * *" (a 6th field: seconds).')
    ] = None,
    seed_file: Annotated[
        list[Path], typer.Option(help="Discover from a seed file first.")
    ] = _NO_PATHS,
    source: Annotated[
        list[str], typer.Option("--source", "-s", help="Discover from these sources first.")
    ] = _NONE,
    registry: Annotated[
        list[str], typer.Option(help="Discover from a registry with the official API.")
    ] = _NONE,
    testbed: Annotated[
        Path | None, typer.Option(help="Crawl a simulated internet's folder.")
    ] = None,
    opt_out: Annotated[list[Path], typer.Option(help="Extra opt-out FILE.")] = _NO_PATHS,
    concurrency: Annotated[
        int, typer.Option(help="Probes in flight per worker.")
    ] = _DEFAULTS.concurrency,
    list_: Annotated[bool, typer.Option("--list", help="List the schedules.")] = False,
    remove: Annotated[int | None, typer.Option(help="Disable the schedule ID.")] = None,
) -> None:
    """Register a recurring crawl (a procrastinate periodic task that every worker knows).

    Workers read the schedules when they start: restart `census worker` after adding one.
    Example: census schedule --cron "0 3 * * *" --source official --source docker
    """
    settings = load_settings()
    with _database(settings) as (_target, engine):
        if remove is not None:
            with engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE crawl_schedules SET enabled = false WHERE id = :id"),
                    {"id": remove},
                )
            console.print(f"schedule {remove} disabled")
        elif cron is not None:
            spec = _spec(source, registry, seed_file, testbed, opt_out)
            probe_opts = _testbed_probe_options(testbed) if testbed is not None else {}
            request = CrawlRequest(
                allow_private=bool(probe_opts.get("allow_private", False)),
                hosts_file=probe_opts.get("hosts_file"),  # type: ignore[arg-type]
                ca_bundle=probe_opts.get("ca_bundle"),  # type: ignore[arg-type]
                testbed=spec.testbed,
                crawl=CrawlSettings(
                    concurrency=concurrency,
                    confirm_delay=_confirm_delay(None, simulated=testbed is not None),
                ),
            )
            schedule_id = add_schedule(engine, cron, spec.as_config(), request)
            console.print(f"schedule {schedule_id}: {cron}; workers started from now on run it")
        elif not list_:
            raise UsageError("say --cron EXPR to add a schedule, --list or --remove ID")
        table = Table(title="schedules")
        for column in ("id", "cron", "enabled", "discovery", "created"):
            table.add_column(column)
        with engine.connect() as conn:
            for row in conn.execute(
                sa.text(
                    "SELECT id, cron, enabled, config, created_at FROM crawl_schedules ORDER BY id"
                )
            ):
                discovery = row.config.get("discovery", {})
                named = (
                    ", ".join(f"{k}={v}" for k, v in discovery.items() if v and k != "min_interval")
                    or "stored endpoints"
                )
                table.add_row(
                    str(row.id),
                    row.cron,
                    str(row.enabled),
                    named,
                    f"{row.created_at:%Y-%m-%d %H:%M}",
                )
        console.print(table)


def demo_command(
    endpoints: Annotated[
        int, typer.Option("--endpoints", "-n", min=1, help="Size of the simulated internet.")
    ] = 2000,
    seed: Annotated[int, typer.Option(help="Generation seed.")] = 1,
    mix: Annotated[str, typer.Option(help="uniform | realistic | hostile.")] = "realistic",
    concurrency: Annotated[int, typer.Option(help="Probes in flight.")] = 300,
    per_host_rate: Annotated[
        float, typer.Option(help="Requests per second to one (simulated) host.")
    ] = 10.0,
    per_host_connections: Annotated[
        int, typer.Option(help="Simultaneous requests to one (simulated) host.")
    ] = 4,
    no_confirm: Annotated[
        bool,
        typer.Option("--no-confirm", help="Probe every endpoint once: no confirmation probes."),
    ] = False,
) -> None:
    """The whole pipeline on a simulated internet: serve it, discover it, crawl it, report.

    The simulated internet runs on this machine, so the demo allows 10 requests/s per host
    (the real-internet default is 2): its platform hosts serve ~50 endpoints each.

    Example: uv run census demo
    """
    settings = load_settings()
    with (
        tempfile.TemporaryDirectory(prefix="census-demo-") as tmp,
        _testbed(Path(tmp) / "testbed", endpoints, seed, mix) as folder,
        _crawl_log(settings),
        _database(settings) as (target, engine),
    ):
        console.print(f"simulated internet: {endpoints} endpoints ({mix} mix) in {folder}")
        probe_opts = _testbed_probe_options(folder)
        found = _discover(engine, settings, DiscoverySpec(testbed=str(folder), min_interval=0.0))
        request = CrawlRequest(
            allow_private=bool(probe_opts["allow_private"]),
            hosts_file=str(probe_opts["hosts_file"]),
            ca_bundle=str(probe_opts["ca_bundle"]),
            optout_hosts=tuple(sorted(found.optout_hosts)),
            sources=found.source_names,
            testbed=str(folder),
            crawl=CrawlSettings(
                concurrency=concurrency,
                per_host_rate=per_host_rate,
                per_host_connections=per_host_connections,
                confirm=not no_confirm,
                confirm_delay=SIMULATED_CONFIRM_DELAY,
            ),
        )
        if not no_confirm:
            console.print(
                f"confirmation: transient-looking failures are probed again"
                f" {SIMULATED_CONFIRM_DELAY:g} s after their first probe (the real-internet"
                f" default is {_DEFAULTS.confirm_delay / 60:g} minutes; the simulated outages"
                " last one visit, not minutes)"
            )
        final = _crawl(target, engine, settings, request, None, run_worker=True)
        if final is not None:
            _print_report(engine, final.run_id)
            # Against the planted answers: why fewer endpoints than served, and agreement.
            from census.bench.demo import demo_check, print_demo_check

            print_demo_check(demo_check(engine, final.run_id, folder, found.outcomes), console)


def _print_report(engine: Engine, run_id: int) -> None:
    from census.report import render_run

    render_run(engine, run_id, console)


@contextmanager
def _testbed(out: Path, endpoints: int, seed: int, mix: str) -> Iterator[Path]:
    try:
        testbed = ServedTestbed(out, endpoints, seed, mix)
    except RuntimeError as exc:  # the child could not start: say why, in one message
        raise UsageError(str(exc)) from exc
    try:
        yield testbed.out_dir
    finally:
        testbed.stop()
