"""Crawl settings: every default of the crawl engine, commented, passed down as a value."""

from __future__ import annotations

from dataclasses import dataclass

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
