"""Crawl settings: every default of the crawl engine, commented, passed down as a value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import procrastinate

__all__ = ["CrawlSettings"]


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    #: Probes in flight per worker process (the global limit of one process).
    concurrency: int = 200
    #: Simultaneous requests to one host, shared by every probe of that host.
    per_host_connections: int = 2
    #: Request starts per second to one host.
    per_host_rate: float = 2.0
    #: Endpoints per shard (a shard holds whole hosts, so a platform host may exceed it).
    shard_size: int = 200
    #: Observations per COPY batch, and the longest a finished observation waits to be written.
    batch_size: int = 500
    flush_seconds: float = 1.0
    #: Shard jobs one worker runs at once (each shard runs `concurrency` probes in total).
    worker_jobs: int = 4
    #: A worker without heartbeat for this long is stalled; its shard is handed to another.
    stalled_worker_timeout: float = 30.0
    heartbeat_interval: float = 10.0
    #: How often a worker looks for stalled shards.
    stall_check_interval: float = 15.0
    #: How long a stopping worker lets running shards flush before cancelling them.
    shutdown_grace: float = 5.0
    #: Retries of a failed shard (the database restarting, a worker killed) before the shard is
    #: marked failed, waiting 0, w, 2w, … seconds between tries (w = ``shard_retry_wait``).  A
    #: retry probes only the shard's endpoints not observed yet.
    shard_retries: int = 5
    shard_retry_wait: int = 2
    #: Probe every confirmable first verdict (census.vocabulary.is_confirmable) a second time,
    #: at least ``confirm_delay`` seconds after its first probe and after the run's first pass
    #: (census.crawl.confirm); the run completes after its confirmations.
    confirm: bool = True
    confirm_delay: float = 600.0
    #: How long `census crawl` waits for an unreachable database before it gives up (exit 3).
    database_patience: float = 300.0


def last_try(context: procrastinate.JobContext, retries: int) -> bool:
    """True on a queue job's last try: procrastinate retries while its earlier tries number
    fewer than ``retries``, so a failure now is final and the job's unit must be marked failed
    (else its run would wait for it forever)."""
    return context.job is not None and context.job.attempts >= retries
