"""Confirmation within a run: the second probe of every first verdict that could be transient.

A server restarting for ten seconds must not count as dead.  When a run's first pass is over
(its last shard done), :func:`census.crawl.worker.settle_run` moves it to ``confirming`` instead
of ``complete`` if it has confirmable first verdicts (``census.vocabulary.is_confirmable``) and
its configuration asks for confirmation.  :func:`ensure_confirmations` then plans one
confirmation per shard with confirmable endpoints — a ``crawl_confirmations`` row due at
``max(the shard's latest confirmable first probe + confirm_delay, now)`` — and defers one queue
job per row, ``schedule_at`` its due time.  The job probes those endpoints again with the run's
probe settings and the same per-host limits (one job per shard, so one worker owns each host's
clock, as in the first pass), and stores the second attempt
(:func:`census.store.observations.write_confirmations`): it stands, both evidences are kept,
``confirmed``/``flapping`` compare the statuses (``census.vocabulary.VERDICT_RULE``).  The last
confirmation settles the run ``complete``.

Everything is idempotent, so a crash anywhere is repaired by calling :func:`ensure_confirmations`
again — the worker after each shard, ``census crawl``'s watch every progress tick, and
``census crawl --resume``: planning happens once (under the run's row lock), a confirmation job
is deferred again only when no live job exists (queueing lock and lock per row), and a second
attempt is written only over an observation still at one attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import anyio
import procrastinate
import psycopg
from procrastinate import exceptions as pexc
from psycopg.rows import dict_row

from census.crawl.settings import CrawlSettings, last_try
from census.net.client import ProbeClient
from census.store.observations import Observed, write_confirmations
from census.vocabulary import FailureReason, RunStatus, ShardState, confirmable_sql

__all__ = [
    "CONFIRMATION_FAILED_SQL",
    "CONFIRMATION_PENDING_SQL",
    "CONFIRM_SHARD",
    "ensure_confirmations",
    "register_confirm_task",
    "reopen_confirmations",
]

log = logging.getLogger(__name__)
CONFIRM_SHARD = "census.confirm_shard"

#: Over ``crawl_runs r``: the run asks for confirmation and some is still to do — planned and
#: queued, or not planned yet while a confirmable first verdict exists.  Runs stored before
#: confirmation existed have no ``confirm`` key: never confirming.
CONFIRMATION_PENDING_SQL = (
    "(coalesce(CAST(r.config->'crawl'->>'confirm' AS boolean), false) AND ("
    " EXISTS (SELECT 1 FROM crawl_confirmations c WHERE c.run_id = r.id AND c.state = 'queued')"
    " OR (NOT EXISTS (SELECT 1 FROM crawl_confirmations c WHERE c.run_id = r.id)"
    "  AND EXISTS (SELECT 1 FROM observations o WHERE o.run_id = r.id AND o.attempts = 1"
    f"   AND {confirmable_sql('o.status', 'o.failure_reason')}))))"
)
#: Over ``crawl_runs r``: a confirmation failed after its retries (the run ends ``failed``).
CONFIRMATION_FAILED_SQL = (
    "EXISTS (SELECT 1 FROM crawl_confirmations c WHERE c.run_id = r.id AND c.state = 'failed')"
)

_PLAN_SQL = f"""
INSERT INTO crawl_confirmations (run_id, shard_no, endpoint_ids, not_before)
SELECT s.run_id, s.shard_no, array_agg(o.endpoint_id ORDER BY o.endpoint_id),
       greatest(max(o.probed_at) + make_interval(secs => %(delay)s), now())
FROM crawl_shards s
JOIN observations o ON o.run_id = s.run_id AND o.endpoint_id = ANY(s.endpoint_ids)
WHERE s.run_id = %(run)s AND o.attempts = 1
  AND {confirmable_sql("o.status", "o.failure_reason")}
  AND NOT EXISTS (SELECT 1 FROM crawl_confirmations c WHERE c.run_id = %(run)s)
GROUP BY s.run_id, s.shard_no
"""

_UNQUEUED_SQL = """
SELECT c.shard_no, c.not_before FROM crawl_confirmations c
WHERE c.run_id = %(run)s AND c.state = 'queued' AND NOT EXISTS (
  SELECT 1 FROM procrastinate.procrastinate_jobs j
  WHERE j.task_name = %(task)s AND j.status IN ('todo', 'doing', 'aborting')
  AND j.args->>'run_id' = c.run_id::text AND j.args->>'shard_no' = c.shard_no::text)
ORDER BY c.shard_no
"""


async def ensure_confirmations(app: procrastinate.App, conninfo: str, run_id: int) -> int:
    """Plan the run's confirmations if it is ``confirming`` and they are not planned yet, and
    queue every planned one that has no live job; returns how many jobs were deferred."""
    from census.crawl.worker import settle_run

    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        cur = await conn.execute("SELECT status, config FROM crawl_runs WHERE id = %s", (run_id,))
        row = await cur.fetchone()
        await conn.commit()
        if row is None or row[0] != RunStatus.CONFIRMING.value:
            return 0
        delay = float((row[1] or {}).get("crawl", {}).get("confirm_delay", 600.0))
        async with conn.transaction():
            # The run's row lock makes planning happen once, whoever gets here first.
            await conn.execute("SELECT 1 FROM crawl_runs WHERE id = %s FOR UPDATE", (run_id,))
            await conn.execute(_PLAN_SQL, {"run": run_id, "delay": delay})
        cur = await conn.execute(_UNQUEUED_SQL, {"run": run_id, "task": CONFIRM_SHARD})
        due: list[tuple[int, datetime]] = [(int(r[0]), r[1]) for r in await cur.fetchall()]
        await conn.commit()
        deferred = 0
        task = app.tasks[CONFIRM_SHARD]
        for shard_no, not_before in due:
            key = f"run{run_id}-confirm{shard_no}"
            try:
                # lock: a duplicate job (deferred while the first was already running) waits
                # for it and then finds nothing left to do — never two workers on one host.
                await task.configure(
                    schedule_at=not_before, lock=key, queueing_lock=key
                ).defer_async(run_id=run_id, shard_no=shard_no)
                deferred += 1
            except pexc.AlreadyEnqueued:
                pass
        if not due:
            await settle_run(conn, run_id)  # nothing planned or left: the run can end
        return deferred


async def reopen_confirmations(conninfo: str, run_id: int) -> None:
    """``census crawl --resume``: confirmations that failed after their retries go back to
    the queue (:func:`ensure_confirmations` defers them once the run is ``confirming``)."""
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        await conn.execute(
            "UPDATE crawl_confirmations SET state = %s, finished_at = NULL"
            " WHERE run_id = %s AND state = %s",
            (ShardState.QUEUED.value, run_id, ShardState.FAILED.value),
        )
        await conn.commit()


def register_confirm_task(app: procrastinate.App, queue: str, crawl: CrawlSettings) -> None:
    """The confirmation job, with the shard jobs' retry policy."""
    retries = crawl.shard_retries

    @app.task(
        name=CONFIRM_SHARD,
        queue=queue,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=retries, linear_wait=crawl.shard_retry_wait),
    )
    async def confirm_shard(context: procrastinate.JobContext, run_id: int, shard_no: int) -> None:
        runtime = context.additional_context["census"]
        try:
            await confirm_shard_endpoints(runtime, run_id, shard_no)
        except Exception:
            if last_try(context, retries):
                log.error(
                    "confirmation %s of run %s failed after %s retries", shard_no, run_id, retries
                )
                await _confirmation_failed(runtime.conninfo, run_id, shard_no)
            raise


async def _confirmation_failed(conninfo: str, run_id: int, shard_no: int) -> None:
    from census.crawl.worker import settle_run

    try:
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            await conn.execute(
                "UPDATE crawl_confirmations SET state = %s, finished_at = now()"
                " WHERE run_id = %s AND shard_no = %s AND state = %s",
                (ShardState.FAILED.value, run_id, shard_no, ShardState.QUEUED.value),
            )
            await conn.commit()
            await settle_run(conn, run_id)
    except psycopg.Error as exc:  # the database is gone: the watch or --resume repairs it
        log.error("could not mark confirmation %s of run %s failed: %s", shard_no, run_id, exc)


async def confirm_shard_endpoints(runtime: Any, run_id: int, shard_no: int) -> None:
    """Probe one confirmation's endpoints again and store their second attempts."""
    from census.crawl.worker import settle_run

    async with await psycopg.AsyncConnection.connect(runtime.conninfo) as conn:
        # A run stopped while confirming (Ctrl-C) is taken up again, as shards take up theirs.
        cur = await conn.execute(
            "UPDATE crawl_runs SET status = %s WHERE id = %s AND status IN (%s, %s)"
            " RETURNING config",
            (
                RunStatus.CONFIRMING.value,
                run_id,
                RunStatus.CONFIRMING.value,
                RunStatus.STOPPED.value,
            ),
        )
        row = await cur.fetchone()
        await conn.commit()
        if row is None:
            log.info("run %s is not confirming; confirmation %s skipped", run_id, shard_no)
            return
        config: dict[str, Any] = dict(row[0])
        async with conn.cursor(row_factory=dict_row) as dcur:
            await dcur.execute(
                "SELECT e.id, e.url, e.host, e.secret_in_url FROM crawl_confirmations c"
                " JOIN observations o ON o.run_id = c.run_id"
                " AND o.endpoint_id = ANY(c.endpoint_ids)"
                " JOIN endpoints e ON e.id = o.endpoint_id"
                " WHERE c.run_id = %s AND c.shard_no = %s AND c.state = 'queued'"
                " AND o.attempts = 1 ORDER BY e.host, e.id",
                (run_id, shard_no),
            )
            targets = list(await dcur.fetchall())
        await conn.execute(
            "UPDATE crawl_confirmations SET attempts = attempts + 1"
            " WHERE run_id = %s AND shard_no = %s",
            (run_id, shard_no),
        )
        await conn.commit()
        if targets:
            await _probe_again(runtime, conn, run_id, config, targets)
        await conn.execute(
            "UPDATE crawl_confirmations SET state = %s, finished_at = now()"
            " WHERE run_id = %s AND shard_no = %s AND state = %s",
            (ShardState.DONE.value, run_id, shard_no, ShardState.QUEUED.value),
        )
        await conn.commit()
        await settle_run(conn, run_id)


async def _probe_again(
    runtime: Any,
    conn: psycopg.AsyncConnection[Any],
    run_id: int,
    config: dict[str, Any],
    targets: Sequence[dict[str, Any]],
) -> None:
    settings, limiter, by_host = runtime.host_plan(config, targets)
    send, receive = anyio.create_memory_object_stream[Observed](runtime.crawl.batch_size * 2)

    async def store() -> None:
        batch: list[Observed] = []
        async with receive:
            async for item in receive:
                if item.observation.failure_reason == FailureReason.CENSUS_ERROR:
                    # Our own failure says nothing about the endpoint: its first attempt stands.
                    log.error("confirmation of %s failed on our side", item.observation.url)
                    continue
                batch.append(item)
                if len(batch) >= runtime.crawl.batch_size:
                    with anyio.CancelScope(shield=True):
                        await write_confirmations(conn, run_id, batch)
                    batch = []
        if batch:
            with anyio.CancelScope(shield=True):
                await write_confirmations(conn, run_id, batch)

    async with ProbeClient(settings, limiter) as client, anyio.create_task_group() as tg:
        tg.start_soon(store)
        async with send, anyio.create_task_group() as probes:
            for host_targets in by_host.values():
                probes.start_soon(runtime._probe_host, client, settings, host_targets, send.clone())
