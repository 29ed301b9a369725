"""Per-host politeness: at most N requests in flight and R request starts per second per host,
shared by every probe that talks to that host through one client.

A token bucket per host spaces request starts (no bursts above ``burst``); a semaphore bounds
simultaneous requests.  Hosts are keyed by lower-cased name, so a platform host serving a thousand
endpoints is crawled at the same polite pace as a host serving one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

__all__ = ["HostLimiter"]


@dataclass(slots=True)
class _Host:
    slots: anyio.Semaphore
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    next_start: float = 0.0
    users: int = 0


class HostLimiter:
    """``async with limiter.slot(host): …`` around every request to ``host``."""

    def __init__(self, connections: int = 2, rate: float = 2.0) -> None:
        if connections < 1 or rate <= 0:
            raise ValueError("per-host limits must be positive")
        self.connections = connections
        self.interval = 1.0 / rate
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        key = host.lower()
        state = self._hosts.get(key)
        if state is None:
            state = self._hosts[key] = _Host(anyio.Semaphore(self.connections))
        state.users += 1
        try:
            async with state.slots:
                async with state.lock:  # reserve the next start time, then wait for it
                    now = time.monotonic()
                    start = max(now, state.next_start)
                    state.next_start = start + self.interval
                if start > now:
                    await anyio.sleep(start - now)
                yield
        finally:
            state.users -= 1
            if state.users == 0 and state.next_start <= time.monotonic():
                del self._hosts[key]  # forget idle hosts: memory stays bounded over a crawl
