"""The crawl's queue side: procrastinate tasks and the per-worker runtime that probes a shard.

One shard job: load the shard's endpoints not yet observed in this run, probe them with one
client (host-serial, hosts in parallel, every request through the per-host limiter), stream the
observations to the COPY writer in batches, then mark the shard done and, when it was the last,
the run complete.  Delivery is at-least-once; the writer makes it exactly-once per endpoint.

Isolation by construction: whatever goes wrong with one endpoint — the remote side, or census's
own code probing, classifying or storing it — ends as that endpoint's observation
(``skipped``/``census_error`` for ours), never as a failed batch or shard.  A batch the database
refuses is split until the refused rows are found; each of those is stored as a minimal
``census_error`` observation.  Only what is not about one endpoint (the database gone, a worker
killed) fails a shard; it is retried (only its endpoints not yet observed are probed again), and
after its last retry it is marked ``failed`` and so is its run, once no shard is left queued.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import procrastinate
import psycopg
from anyio.abc import ObjectSendStream
from psycopg.rows import dict_row

from census.config import ProbeSettings
from census.crawl.settings import CrawlSettings, last_try
from census.findings import with_endpoint_findings
from census.net.client import ProbeClient
from census.net.politeness import HostLimiter
from census.probe.plan import census_error, probe_and_classify
from census.store.observations import Observed, write_observations
from census.vocabulary import RunStatus, ShardState

__all__ = [
    "CRAWL_QUEUE",
    "PROBE_SHARD",
    "WorkerRuntime",
    "complete_if_done",
    "make_app",
    "probe_settings_from",
    "settle_run",
    "store_isolated",
]

log = logging.getLogger(__name__)
CRAWL_QUEUE = "crawl"
PROBE_SHARD = "census.probe_shard"
SCHEDULED_CRAWL = "census.scheduled_crawl"
#: procrastinate's tables live in their own schema (see migrations 0002).
SEARCH_PATH = "-c search_path=procrastinate,public"


def make_app(
    conninfo: str,
    pool_size: int = 4,
    schedules: Sequence[tuple[int, str]] = (),
    crawl: CrawlSettings | None = None,
) -> procrastinate.App:
    """A procrastinate app on the census database with the crawl's tasks registered.

    ``schedules`` are (id, cron) pairs from ``crawl_schedules``: each becomes a periodic
    ``census.scheduled_crawl``; procrastinate makes sure one tick starts one run, however many
    workers are running.  ``crawl`` gives the shard retry policy (the worker's own settings).
    """
    crawl = crawl or CrawlSettings()
    retries = crawl.shard_retries
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo,
        kwargs={"options": SEARCH_PATH},
        min_size=1,
        max_size=pool_size,
    )
    app = procrastinate.App(connector=connector)

    @app.task(
        name=PROBE_SHARD,
        queue=CRAWL_QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=retries, linear_wait=crawl.shard_retry_wait),
    )
    async def probe_shard(context: procrastinate.JobContext, run_id: int, shard_no: int) -> None:
        runtime: WorkerRuntime = context.additional_context["census"]
        try:
            await runtime.process_shard(run_id, shard_no)
            # The first pass may just have ended: plan and queue its confirmations.
            await ensure_confirmations(app, runtime.conninfo, run_id)
        except Exception:
            if last_try(context, retries):
                log.error("shard %s of run %s failed after %s retries", shard_no, run_id, retries)
                await runtime.shard_failed(run_id, shard_no)
            raise

    @app.task(name=SCHEDULED_CRAWL, queue=CRAWL_QUEUE, pass_context=True)
    async def scheduled_crawl(
        context: procrastinate.JobContext, timestamp: int, schedule_id: int
    ) -> None:
        from census.crawl.engine import start_scheduled

        runtime: WorkerRuntime = context.additional_context["census"]
        run_id = await start_scheduled(runtime.database_url, app, schedule_id, runtime.user_agent)
        log.info("schedule %s (tick %s) started run %s", schedule_id, timestamp, run_id)

    for schedule_id, cron in schedules:
        app.periodic(
            cron=cron,
            periodic_id=f"schedule-{schedule_id}",
            task_kwargs={"schedule_id": schedule_id},
            # one tick at a time per schedule: a slow discovery never piles up runs
            lock=f"schedule-{schedule_id}",
            queueing_lock=f"schedule-{schedule_id}",
        )(scheduled_crawl)

    from census.sweep.jobs import register_sweep_task  # domain sweeps share the crawl queue

    register_sweep_task(app, CRAWL_QUEUE)
    from census.crawl.confirm import ensure_confirmations, register_confirm_task

    register_confirm_task(app, CRAWL_QUEUE, crawl)
    return app


def probe_settings_from(config: dict[str, Any], user_agent: str) -> ProbeSettings:
    """Rebuild the prober's settings from a run's stored configuration."""
    probe = config.get("probe", {})
    return ProbeSettings(
        user_agent=user_agent,
        allow_private=bool(probe.get("allow_private", False)),
        hosts_file=_path(probe.get("hosts_file")),
        ca_bundle=_path(probe.get("ca_bundle")),
        optout_hosts=frozenset(probe.get("optout_hosts", ())),
    )


def _path(value: Any) -> Any:
    from pathlib import Path

    return Path(value) if value else None


@dataclass
class WorkerRuntime:
    """What every shard job of one worker process shares."""

    database_url: str  # SQLAlchemy form, for discovery and run creation
    conninfo: str  # libpq form, for the COPY writer
    crawl: CrawlSettings
    user_agent: str
    errors: int = 0
    _in_flight: anyio.Semaphore | None = field(default=None, repr=False)

    @property
    def in_flight(self) -> anyio.Semaphore:
        """The worker-wide limit on probes in flight, across all its shard jobs."""
        if self._in_flight is None:
            self._in_flight = anyio.Semaphore(self.crawl.concurrency)
        return self._in_flight

    async def _run_config(self, conn: psycopg.AsyncConnection[Any], run_id: int) -> dict[str, Any]:
        cur = await conn.execute(
            "UPDATE crawl_runs SET status = 'running', started_at = coalesce(started_at, now())"
            " WHERE id = %s AND status IN ('pending', 'running', 'stopped')"
            " RETURNING config",
            (run_id,),
        )
        row = await cur.fetchone()
        await conn.commit()
        return dict(row[0]) if row else {}

    async def process_shard(self, run_id: int, shard_no: int) -> None:
        async with await psycopg.AsyncConnection.connect(self.conninfo) as conn:
            config = await self._run_config(conn, run_id)
            if not config:
                log.info("run %s is not active; shard %s skipped", run_id, shard_no)
                return
            targets = await self._targets(conn, run_id, shard_no)
            await conn.execute(
                "UPDATE crawl_shards SET attempts = attempts + 1"
                " WHERE run_id = %s AND shard_no = %s",
                (run_id, shard_no),
            )
            await conn.commit()
            await self._probe_all(conn, run_id, config, targets)
            await conn.execute(
                "UPDATE crawl_shards SET state = 'done', finished_at = now()"
                " WHERE run_id = %s AND shard_no = %s",
                (run_id, shard_no),
            )
            await conn.commit()
            await complete_if_done(conn, run_id)

    async def _targets(
        self, conn: psycopg.AsyncConnection[Any], run_id: int, shard_no: int
    ) -> list[dict[str, Any]]:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT e.id, e.url, e.host, e.secret_in_url FROM crawl_shards s"
                " JOIN endpoints e ON e.id = ANY(s.endpoint_ids)"
                " WHERE s.run_id = %s AND s.shard_no = %s AND NOT EXISTS ("
                "   SELECT 1 FROM observations o"
                "   WHERE o.run_id = s.run_id AND o.endpoint_id = e.id)"
                " ORDER BY e.host, e.id",
                (run_id, shard_no),
            )
            return list(await cur.fetchall())

    def host_plan(
        self, config: dict[str, Any], targets: Sequence[dict[str, Any]]
    ) -> tuple[ProbeSettings, HostLimiter, dict[str, list[dict[str, Any]]]]:
        """The run's probe settings, a per-host limiter from its politeness settings, and the
        targets grouped by host (one host's endpoints are probed one after another)."""
        settings = probe_settings_from(config, self.user_agent)
        crawl = config.get("crawl", {})
        limiter = HostLimiter(
            crawl.get("per_host_connections", self.crawl.per_host_connections),
            crawl.get("per_host_rate", self.crawl.per_host_rate),
        )
        by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for target in targets:
            by_host[target["host"]].append(target)
        return settings, limiter, by_host

    async def _probe_all(
        self,
        conn: psycopg.AsyncConnection[Any],
        run_id: int,
        config: dict[str, Any],
        targets: list[dict[str, Any]],
    ) -> None:
        if not targets:
            return
        settings, limiter, by_host = self.host_plan(config, targets)
        send, receive = anyio.create_memory_object_stream[Observed](self.crawl.batch_size * 2)

        async with (
            ProbeClient(settings, limiter) as client,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(self._write_loop, conn, run_id, receive)
            async with send, anyio.create_task_group() as probes:
                for host_targets in by_host.values():
                    probes.start_soon(
                        self._probe_host, client, settings, host_targets, send.clone()
                    )

    async def _probe_host(
        self,
        client: ProbeClient,
        settings: ProbeSettings,
        targets: list[dict[str, Any]],
        send: ObjectSendStream[Observed],
    ) -> None:
        # One host's endpoints one after another: the per-host limiter spaces their requests
        # anyway, and serial probes never hold each other's connection slots.
        async with send:
            for target in targets:
                started = datetime.now(UTC)
                try:
                    async with self.in_flight:
                        evidence, observation = await probe_and_classify(
                            target["url"], settings, client
                        )
                    # The prober saw the redacted URL only; discovery knows a secret was there.
                    observation = with_endpoint_findings(
                        observation, secret_in_url=bool(target["secret_in_url"])
                    )
                except Exception as exc:  # ours (probe_and_classify itself never raises)
                    self.errors += 1
                    log.exception("census failed on %s", target["url"])
                    evidence, observation = census_error(target["url"], started, "crawl", exc)
                await send.send(Observed(target["id"], observation, evidence))

    async def _write_loop(
        self,
        conn: psycopg.AsyncConnection[Any],
        run_id: int,
        receive: anyio.abc.ObjectReceiveStream[Observed],
    ) -> None:
        batch: list[Observed] = []
        deadline = time.monotonic() + self.crawl.flush_seconds
        async with receive:
            while True:
                try:
                    with anyio.fail_after(max(0.01, deadline - time.monotonic())):
                        item = await receive.receive()
                    batch.append(item)
                except TimeoutError:
                    pass
                except anyio.EndOfStream:
                    break
                if len(batch) >= self.crawl.batch_size or time.monotonic() >= deadline:
                    if batch:
                        with anyio.CancelScope(shield=True):
                            self.errors += await store_isolated(conn, run_id, batch)
                        batch = []
                    deadline = time.monotonic() + self.crawl.flush_seconds
        if batch:
            with anyio.CancelScope(shield=True):
                self.errors += await store_isolated(conn, run_id, batch)

    async def shard_failed(self, run_id: int, shard_no: int) -> None:
        """Mark a shard failed after its last retry, and its run when nothing is left queued."""
        try:
            async with await psycopg.AsyncConnection.connect(self.conninfo) as conn:
                await conn.execute(
                    "UPDATE crawl_shards SET state = %s, finished_at = now()"
                    " WHERE run_id = %s AND shard_no = %s AND state = %s",
                    (ShardState.FAILED.value, run_id, shard_no, ShardState.QUEUED.value),
                )
                await conn.commit()
                await settle_run(conn, run_id)
        except psycopg.Error as exc:  # the database is gone: `census crawl` notices it
            log.error("could not mark shard %s of run %s failed: %s", shard_no, run_id, exc)


async def store_isolated(
    conn: psycopg.AsyncConnection[Any], run_id: int, items: Sequence[Observed]
) -> int:
    """Store a batch so that no endpoint's row can cost another its observation.

    One transaction for the whole batch (the fast path).  If the database refuses it while the
    connection is still usable (a value it rejects, a constraint, a bug of ours building a
    row), the batch is split in halves until the refused rows are isolated; each of those is
    stored as a minimal ``census_error`` observation (no tools; evidence naming the exception
    type only).  A refused minimal row, or a lost connection, is not about one endpoint: that
    raises, and the shard is retried.  Returns how many endpoints became ``census_error``.
    """
    if not items:
        return 0
    try:
        await write_observations(conn, run_id, items)
        return 0
    except Exception as exc:
        if conn.broken or conn.closed:
            raise
        if len(items) > 1:
            half = len(items) // 2
            return await store_isolated(conn, run_id, items[:half]) + await store_isolated(
                conn, run_id, items[half:]
            )
        item = items[0]
        log.error(
            "the database refused the observation of endpoint %s (%s): stored as census_error",
            item.endpoint_id,
            type(exc).__name__,
        )
        evidence, observation = census_error(
            item.observation.url, item.observation.probed_at, "store", exc
        )
    await write_observations(conn, run_id, [Observed(item.endpoint_id, observation, evidence)])
    return 1


async def settle_run(conn: psycopg.AsyncConnection[Any], run_id: int) -> str | None:
    """End the run when no shard is left queued: ``complete`` if every shard is done, else
    ``failed`` (resumable); record the counts by status.  Returns the new status, if any.
    A run with confirmations to do is ``confirming`` instead (census.crawl.confirm)."""
    from census.crawl.confirm import CONFIRMATION_FAILED_SQL, CONFIRMATION_PENDING_SQL

    cur = await conn.execute(
        "UPDATE crawl_runs r SET finished_at = now(),"
        " status = CASE WHEN EXISTS (SELECT 1 FROM crawl_shards WHERE run_id = r.id"
        f"   AND state <> %(done)s) OR {CONFIRMATION_FAILED_SQL} THEN %(failed)s"
        # every shard done: second probes of transient-looking failures (census.crawl.confirm)
        f" WHEN {CONFIRMATION_PENDING_SQL} THEN %(confirming)s ELSE %(complete)s END,"
        " counts = (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) FROM"
        "   (SELECT status, count(*) AS n FROM observations WHERE run_id = r.id"
        "    GROUP BY status) s)"
        " WHERE r.id = %(run)s AND r.status <> %(complete)s AND NOT EXISTS ("
        "   SELECT 1 FROM crawl_shards WHERE run_id = r.id AND state = %(queued)s)"
        " RETURNING r.status",
        {
            "run": run_id,
            "done": ShardState.DONE.value,
            "queued": ShardState.QUEUED.value,
            "failed": RunStatus.FAILED.value,
            "complete": RunStatus.COMPLETE.value,
            "confirming": RunStatus.CONFIRMING.value,
        },
    )
    row = await cur.fetchone()
    await conn.commit()
    return str(row[0]) if row else None


async def complete_if_done(conn: psycopg.AsyncConnection[Any], run_id: int) -> bool:
    """Mark the run complete when every shard is done (see :func:`settle_run`)."""
    return await settle_run(conn, run_id) == RunStatus.COMPLETE.value
