"""Runs: create one from the endpoint set, shard it, enqueue the shards, work them, resume.

``start_run`` writes the run, its partitions and its shards in one transaction, then defers one
procrastinate job per shard (a queueing lock per shard keeps a resumed run from queueing a shard
twice).  ``work`` runs a worker in this process — with a sweeper that hands the shards of stalled
workers (killed, partitioned away) back to the queue — until the run is complete, or forever when
no run is given (``census worker``).

A run always ends: ``complete`` when every shard is done, ``failed`` when a shard failed after
its retries (or its job vanished from the queue) and nothing is left queued, ``stopped`` on
request.  ``work`` watches for all three, and gives up on a database unreachable for longer than
``CrawlSettings.database_patience``; ``resume_run`` queues every shard not done again.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import anyio
import procrastinate
import psycopg
import sqlalchemy as sa
from procrastinate import exceptions as pexc
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from census.classify.inventory import tool_definition
from census.crawl.confirm import ensure_confirmations, reopen_confirmations
from census.crawl.settings import CrawlSettings
from census.crawl.shards import plan_shards
from census.crawl.worker import CRAWL_QUEUE, PROBE_SHARD, WorkerRuntime, make_app, settle_run
from census.errors import CensusError, DatabaseUnreachable, UsageError
from census.store.engine import make_engine
from census.store.observations import libpq_url
from census.store.runs import create_run
from census.vocabulary import RunStatus, ShardState

__all__ = [
    "CrawlRequest",
    "RunProgress",
    "add_schedule",
    "progress",
    "resume_run",
    "start_run",
    "start_scheduled",
    "work",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CrawlRequest:
    """What a run probes and how; stored as the run's configuration."""

    allow_private: bool = False
    hosts_file: str | None = None
    ca_bundle: str | None = None
    optout_hosts: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # only endpoints listed by these sources (all when empty)
    testbed: str | None = None
    crawl: CrawlSettings = field(default_factory=CrawlSettings)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CrawlRequest:
        probe = config.get("probe", {})
        known = set(CrawlSettings.__dataclass_fields__)
        return cls(
            allow_private=bool(probe.get("allow_private", False)),
            hosts_file=probe.get("hosts_file"),
            ca_bundle=probe.get("ca_bundle"),
            optout_hosts=tuple(probe.get("optout_hosts", ())),
            sources=tuple(config.get("sources", ())),
            testbed=config.get("testbed"),
            crawl=CrawlSettings(**{k: v for k, v in config.get("crawl", {}).items() if k in known}),
        )

    def config(self) -> dict[str, Any]:
        return {
            "probe": {
                "allow_private": self.allow_private,
                "hosts_file": self.hosts_file,
                "ca_bundle": self.ca_bundle,
                "optout_hosts": sorted(self.optout_hosts),
            },
            "sources": list(self.sources),
            "testbed": self.testbed,
            # Every output of a run over a simulated internet says so (census.report.schema).
            "simulated": self.testbed is not None,
            "crawl": asdict(self.crawl),
        }


def _endpoints(conn: sa.Connection, sources: tuple[str, ...]) -> list[tuple[int, str]]:
    if sources:
        rows = conn.execute(
            sa.text(
                "SELECT DISTINCT e.id, e.host FROM endpoints e"
                " JOIN listings l ON l.endpoint_id = e.id JOIN sources s ON s.id = l.source_id"
                " WHERE e.still_listed AND s.name = ANY(:sources) ORDER BY e.id"
            ),
            {"sources": list(sources)},
        )
    else:
        rows = conn.execute(
            sa.text("SELECT id, host FROM endpoints WHERE still_listed ORDER BY id")
        )
    return [(int(r[0]), str(r[1])) for r in rows]


def _create_run(engine: Engine, request: CrawlRequest) -> tuple[int, list[int]]:
    with engine.begin() as conn:
        endpoints = _endpoints(conn, request.sources)
        if not endpoints:
            raise UsageError(
                "there are no endpoints to crawl: run `census discover` first (or name a"
                " --seed-file / --testbed)"
            )
        shards = plan_shards(endpoints, request.crawl.shard_size)
        run_id = create_run(conn, request.config(), endpoint_total=len(endpoints))
        conn.execute(
            sa.text(
                "INSERT INTO crawl_shards (run_id, shard_no, host_key, endpoint_ids)"
                " VALUES (:run, :no, :host, :ids)"
            ),
            [
                {"run": run_id, "no": s.shard_no, "host": s.host_key, "ids": list(s.endpoint_ids)}
                for s in shards
            ],
        )
    return run_id, [s.shard_no for s in shards]


async def start_run(engine: Engine, app: procrastinate.App, request: CrawlRequest) -> int:
    """Create a run over the current endpoint set and queue its shards; returns the run id.

    The database work runs in a thread: creating a run's partitions waits for a lock on the
    partitioned tables, which a shard writer of this very process may hold mid-transaction.
    """
    run_id, shard_nos = await anyio.to_thread.run_sync(_create_run, engine, request)
    await _defer(app, run_id, shard_nos)
    return run_id


async def _defer(app: procrastinate.App, run_id: int, shard_nos: list[int]) -> int:
    task = app.tasks[PROBE_SHARD]
    queued = 0
    for shard_no in shard_nos:
        try:
            await task.configure(queueing_lock=f"run{run_id}-shard{shard_no}").defer_async(
                run_id=run_id, shard_no=shard_no
            )
            queued += 1
        except pexc.AlreadyEnqueued:
            pass  # the shard is already waiting in the queue
    return queued


def _reopen_run(engine: Engine, run_id: int) -> list[int]:
    with engine.begin() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM crawl_runs WHERE id = :id"), {"id": run_id}
        ).scalar_one_or_none()
        if status is None:
            raise UsageError(f"there is no run {run_id}")
        if status == RunStatus.COMPLETE:
            return []
        conn.execute(
            sa.text("UPDATE crawl_runs SET status = :running, finished_at = NULL WHERE id = :id"),
            {"id": run_id, "running": RunStatus.RUNNING.value},
        )
        conn.execute(
            sa.text(
                "UPDATE crawl_shards SET state = :queued, finished_at = NULL"
                " WHERE run_id = :id AND state = :failed"
            ),
            {"id": run_id, "queued": ShardState.QUEUED.value, "failed": ShardState.FAILED.value},
        )
        return list(
            conn.execute(
                sa.text(
                    "SELECT shard_no FROM crawl_shards WHERE run_id = :id AND state <> 'done'"
                    " ORDER BY shard_no"
                ),
                {"id": run_id},
            ).scalars()
        )


async def resume_run(engine: Engine, app: procrastinate.App, run_id: int) -> int:
    """Queue again every shard of the run that is not done; returns how many were queued."""
    pending = await anyio.to_thread.run_sync(_reopen_run, engine, run_id)
    queued = await _defer(app, run_id, pending)
    # A run past its first pass goes on with its confirmations (census.crawl.confirm).
    conninfo = libpq_url(engine.url.render_as_string(hide_password=False))
    await reopen_confirmations(conninfo, run_id)
    if not pending:
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            await settle_run(conn, run_id)
    return queued + await ensure_confirmations(app, conninfo, run_id)


@dataclass(frozen=True, slots=True)
class RunProgress:
    run_id: int
    status: str
    total: int
    done: int
    by_status: dict[str, int]
    shards_total: int
    shards_done: int
    shards_failed: int = 0


def progress(engine: Engine, run_id: int) -> RunProgress:
    with engine.connect() as conn:
        run = conn.execute(
            sa.text("SELECT status, endpoint_total FROM crawl_runs WHERE id = :id"),
            {"id": run_id},
        ).one()
        by_status = {
            str(s): int(n)
            for s, n in conn.execute(
                sa.text(
                    "SELECT status, count(*) FROM observations WHERE run_id = :id GROUP BY status"
                ),
                {"id": run_id},
            )
        }
        shards = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE state = 'done'),"
                " count(*) FILTER (WHERE state = 'failed') FROM crawl_shards WHERE run_id = :id"
            ),
            {"id": run_id},
        ).one()
    return RunProgress(
        run_id,
        str(run[0]),
        int(run[1]),
        sum(by_status.values()),
        by_status,
        int(shards[0]),
        int(shards[1]),
        int(shards[2]),
    )


async def settle_orphans(conninfo: str, run_id: int) -> str | None:
    """Fail the run's queued shards that no queue job will ever work, then end the run if
    nothing is left queued; returns the run's new status, if it ended.

    A shard's job ends without the shard being done when its last retry failed at a moment
    the shard could not be marked (the database away), or when the job was cancelled or
    deleted.  Only the process that queued the run's jobs may call this (a shard whose job is
    not deferred yet would look orphaned).
    """
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        await conn.execute(
            "UPDATE crawl_shards s SET state = %(failed)s, finished_at = now()"
            " WHERE s.run_id = %(run)s AND s.state = %(queued)s AND NOT EXISTS ("
            "   SELECT 1 FROM procrastinate.procrastinate_jobs j"
            "   WHERE j.task_name = %(task)s AND j.status IN ('todo', 'doing', 'aborting')"
            "   AND j.args->>'run_id' = s.run_id::text AND j.args->>'shard_no' = s.shard_no::text)",
            {
                "run": run_id,
                "task": PROBE_SHARD,
                "failed": ShardState.FAILED.value,
                "queued": ShardState.QUEUED.value,
            },
        )
        await conn.commit()
        return await settle_run(conn, run_id)


def _schedules(database_url: str) -> list[tuple[int, str]]:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, cron FROM crawl_schedules WHERE enabled ORDER BY id")
            )
            return [(int(r[0]), str(r[1])) for r in rows]
    finally:
        engine.dispose()


def add_schedule(
    engine: Engine, cron: str, discovery: dict[str, Any], request: CrawlRequest
) -> int:
    """Register a recurring crawl; workers started afterwards run it."""
    from croniter import croniter

    if not croniter.is_valid(cron):
        raise UsageError(f"not a valid cron expression: {cron!r}")
    config = {"discovery": discovery, "request": request.config()}
    with engine.begin() as conn:
        return int(
            conn.execute(
                sa.text(
                    "INSERT INTO crawl_schedules (cron, config)"
                    " VALUES (:cron, CAST(:config AS jsonb)) RETURNING id"
                ),
                {"cron": cron, "config": json.dumps(config)},
            ).scalar_one()
        )


async def start_scheduled(
    database_url: str, app: procrastinate.App, schedule_id: int, user_agent: str
) -> int:
    """One tick of a schedule: discover what it names, then start a run (workers crawl it)."""
    from census.crawl.pipeline import DiscoverySpec, run_discovery

    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            config = conn.execute(
                sa.text("SELECT config FROM crawl_schedules WHERE id = :id"), {"id": schedule_id}
            ).scalar_one()
        spec = DiscoverySpec.from_config(config.get("discovery", {}))
        # Discovery stores with blocking calls: give it a thread (and loop) of its own so it
        # never stalls the worker's loop while another job holds a lock it waits for.
        found = await anyio.to_thread.run_sync(
            lambda: anyio.run(run_discovery, engine, spec, user_agent)
        )
        request = CrawlRequest.from_config(config.get("request", {}))
        request = replace(
            request,
            sources=found.source_names or request.sources,
            optout_hosts=tuple(sorted(set(request.optout_hosts) | found.optout_hosts)),
        )
        return await start_run(engine, app, request)
    finally:
        engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _job_statuses_written() -> None:
    """Wait for procrastinate's shielded job-status writes still in flight after its worker
    stopped (a job cancelled at the end of the grace period is marked for retry by a task of
    its own), so that they finish before the app's connection pool closes under them."""
    import asyncio

    pending = [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").endswith("_persist_job_status")
    ]
    if pending:
        await asyncio.wait(pending)


async def _sweep_stalled(app: procrastinate.App, crawl: CrawlSettings) -> None:
    """Hand the jobs of workers that stopped sending heartbeats back to the queue."""
    while True:
        await anyio.sleep(crawl.stall_check_interval)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=CRAWL_QUEUE, seconds_since_heartbeat=crawl.stalled_worker_timeout
            )
            for job in stalled:
                log.warning("retrying stalled shard job %s %s", job.id, job.task_kwargs)
                await app.job_manager.retry_job(job)
        except (psycopg.Error, pexc.ConnectorException) as exc:  # DB restarting: next round
            log.warning("stalled-job sweep failed: %s", exc)


async def work(
    database_url: str,
    crawl: CrawlSettings,
    user_agent: str,
    *,
    until_run: int | None = None,
    engine: Engine | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
    progress_interval: float = 1.0,
    install_signal_handlers: bool = True,
) -> RunProgress | None:
    """Run a worker: until ``until_run`` is complete, or until stopped (SIGINT/SIGTERM)."""
    conninfo = libpq_url(database_url)
    app = make_app(
        conninfo,
        pool_size=crawl.worker_jobs + 2,
        schedules=_schedules(database_url),
        crawl=crawl,
    )
    runtime = WorkerRuntime(
        database_url=database_url, conninfo=conninfo, crawl=crawl, user_agent=user_agent
    )
    # Load the tokenizer (~2 s, more on a busy machine) in a thread before the first shard:
    # loaded lazily on the loop, it would stall the heartbeats long enough for a sweeper to
    # take this worker's running shards for stalled and hand them out a second time.
    await anyio.to_thread.run_sync(tool_definition, {"name": "warm-up", "inputSchema": {}})
    last: RunProgress | None = None
    stop = anyio.Event()
    lost_database: list[str] = []  # why the watch gave up on the database, if it did
    worker_error: list[str] = []  # why procrastinate's worker stopped by itself, if it did

    async with app.open_async(), anyio.create_task_group() as tg:
        # The Worker object rather than app.run_worker_async, so that stopping is
        # procrastinate's own graceful stop: running shards get the grace period, and every job
        # status is written while the pool is still open.
        worker = app._worker(
            queues=[CRAWL_QUEUE],
            concurrency=crawl.worker_jobs,
            wait=True,
            additional_context={"census": runtime},
            install_signal_handlers=False,
            update_heartbeat_interval=crawl.heartbeat_interval,
            stalled_worker_timeout=crawl.stalled_worker_timeout,
            shutdown_graceful_timeout=crawl.shutdown_grace,
            listen_notify=True,
            fetch_job_polling_interval=1.0,
            delete_jobs="successful",
        )
        worker_done = anyio.Event()

        async def run_worker() -> None:
            try:
                await worker.run()  # type: ignore[no-untyped-call]
            except Exception:
                # The queue itself failed (its database gone for good, a job status it could
                # not write): logged, and the run ends stopped (resumable), never a traceback.
                log.exception("the crawl worker stopped on an error")
                worker_error.append(_first_line(sys.exc_info()[1] or Exception()))
            finally:
                worker_done.set()
                stop.set()

        async def signals() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as received:
                async for _ in received:
                    log.warning("stopping: letting running shards flush, then exiting")
                    stop.set()
                    return

        async def watch() -> None:
            nonlocal last
            assert engine is not None and until_run is not None
            unreachable_since: float | None = None
            while True:
                try:
                    await settle_orphans(conninfo, until_run)
                    await ensure_confirmations(app, conninfo, until_run)
                    last = await anyio.to_thread.run_sync(progress, engine, until_run)
                    unreachable_since = None
                except (DBAPIError, psycopg.OperationalError) as exc:
                    # The database restarting: the workers reconnect.  Gone for good: give up.
                    log.warning("progress check failed (%s); retrying", _first_line(exc))
                    now = anyio.current_time()
                    unreachable_since = unreachable_since or now
                    if now - unreachable_since > crawl.database_patience:
                        lost_database.append(_first_line(exc))
                        stop.set()
                        return
                    with anyio.move_on_after(progress_interval):
                        await stop.wait()
                    continue
                if on_progress is not None:
                    on_progress(last)
                if last.status in (RunStatus.COMPLETE, RunStatus.FAILED):
                    stop.set()
                    return
                with anyio.move_on_after(progress_interval):
                    await stop.wait()
                if stop.is_set():
                    return

        tg.start_soon(run_worker)
        tg.start_soon(_sweep_stalled, app, crawl)
        if install_signal_handlers:
            tg.start_soon(signals)
        if until_run is not None:
            tg.start_soon(watch)
        try:
            await stop.wait()
        finally:  # also when cancelled from outside
            with anyio.CancelScope(shield=True):
                worker.stop()  # type: ignore[no-untyped-call]
                with anyio.move_on_after(crawl.shutdown_grace + 10):
                    await worker_done.wait()
                    await _job_statuses_written()
            tg.cancel_scope.cancel()

    if until_run is not None and engine is not None:
        try:
            last = progress(engine, until_run)
            if last.status in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.CONFIRMING):
                with engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            "UPDATE crawl_runs SET status = :stopped WHERE id = :id"
                            " AND status IN (:pending, :running, :confirming)"
                        ),
                        {
                            "id": until_run,
                            "stopped": RunStatus.STOPPED.value,
                            "pending": RunStatus.PENDING.value,
                            "running": RunStatus.RUNNING.value,
                            "confirming": RunStatus.CONFIRMING.value,
                        },
                    )
                last = progress(engine, until_run)
        except DBAPIError as exc:
            lost_database.append(_first_line(exc))
        if lost_database:
            raise DatabaseUnreachable(
                f"lost the database during run {until_run} ({lost_database[0]}); once it is"
                f" back, `census crawl --resume {until_run}` finishes the run"
            )
    elif worker_error:  # `census worker`: say why it stopped, exit non-zero
        raise CensusError(f"the worker stopped on an error: {worker_error[0]}")
    return last
