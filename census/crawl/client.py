"""The crawl's HTTP client: the prober's client with every request passed through the per-host
politeness limiter (shared by all probes of a shard, and a shard holds whole hosts)."""

from __future__ import annotations

from typing import Any

from yarl import URL

from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.net.politeness import HostLimiter

__all__ = ["PoliteClient"]


class PoliteClient(ProbeClient):
    def __init__(self, settings: ProbeSettings, limiter: HostLimiter) -> None:
        super().__init__(settings)
        self.limiter = limiter

    async def _once(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        async with self.limiter.slot(URL(url).host or ""):
            return await super()._once(method, url, *args, **kwargs)
