"""Splitting a run into shards: whole hosts per shard, so one worker owns a host's politeness."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Shard", "plan_shards"]


@dataclass(frozen=True, slots=True)
class Shard:
    shard_no: int
    host_key: str
    endpoint_ids: tuple[int, ...]


def plan_shards(endpoints: Iterable[tuple[int, str]], shard_size: int) -> list[Shard]:
    """Group (endpoint_id, host) pairs into shards of about ``shard_size`` endpoints.

    Every endpoint of a host lands in the same shard (a big platform host gets a shard of its
    own, however large), and small hosts are packed together, biggest first.
    """
    by_host: dict[str, list[int]] = defaultdict(list)
    for endpoint_id, host in endpoints:
        by_host[host.lower()].append(endpoint_id)
    shards: list[Shard] = []
    pending: list[int] = []
    pending_hosts: list[str] = []

    def close() -> None:
        if pending:
            key = pending_hosts[0] if len(pending_hosts) == 1 else f"{len(pending_hosts)} hosts"
            shards.append(Shard(len(shards), key, tuple(pending)))
            pending.clear()
            pending_hosts.clear()

    for host, ids in sorted(by_host.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(ids) >= shard_size:
            shards.append(Shard(len(shards), host, tuple(sorted(ids))))
            continue
        if len(pending) + len(ids) > shard_size:
            close()
        pending.extend(sorted(ids))
        pending_hosts.append(host)
    close()
    return shards
