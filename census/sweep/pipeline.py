"""The staged sweep of a domain list: DNS for every domain, HTTP only for names that resolved.

Stages run side by side: a domain goes to the HTTP stage as soon as its names resolved, while
the DNS stage goes on with the next ones.  Memory is bounded: at most ``dns_domains_in_flight``
domains are being resolved and ``http_domains_in_flight`` visited at once, and a domain's result
leaves through ``on_result`` as soon as it is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import anyio

from census.sweep.dns import DnsStage
from census.sweep.http import HttpStage
from census.sweep.model import DomainResult, SweepSettings, SweepStats

__all__ = ["sweep_domains"]


async def sweep_domains(
    domains: Iterable[str],
    settings: SweepSettings,
    on_result: Callable[[DomainResult], None],
) -> SweepStats:
    """Sweep ``domains``; every domain's result is handed to ``on_result`` once, when done."""
    stats = SweepStats()
    started = time.monotonic()
    dns_span = [float("inf"), 0.0]
    http_span = [float("inf"), 0.0]
    dns_slots = anyio.Semaphore(settings.dns_domains_in_flight)
    http_slots = anyio.Semaphore(settings.http_domains_in_flight)
    total = anyio.Semaphore(settings.dns_domains_in_flight + settings.http_domains_in_flight)
    dns = DnsStage(settings)
    try:
        async with HttpStage(settings) as http:

            async def one(domain: str) -> None:
                try:
                    async with dns_slots:
                        began = time.monotonic()
                        dns_span[0] = min(dns_span[0], began)
                        found = await dns.resolve(domain)
                        dns_span[1] = max(dns_span[1], time.monotonic())
                    result = DomainResult(domain, found)
                    if found.hosts() or found.txt:
                        async with http_slots:
                            began = time.monotonic()
                            http_span[0] = min(http_span[0], began)
                            await http.visit(found, result)
                            if result.requests:
                                http_span[1] = max(http_span[1], time.monotonic())
                    stats.add(result)
                    on_result(result)
                finally:
                    total.release()

            async with anyio.create_task_group() as group:
                for domain in domains:
                    await total.acquire()
                    group.start_soon(one, domain)
    finally:
        await dns.close()
    stats.seconds = time.monotonic() - started
    stats.dns_seconds = max(0.0, dns_span[1] - dns_span[0])
    stats.http_seconds = max(0.0, http_span[1] - http_span[0])
    stats.outcomes["dns_queries"] = dns.queries
    return stats
