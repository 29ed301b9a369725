"""Politeness evidence from the request log: what a well-behaved census must never do.

Crawl tests use :func:`politeness_report` (or ``Testbed.politeness()``) to prove, from what the
testbed actually received, the per-host request rate, that no tool was called, that no credential
was sent, that handshake requests carried no ``Origin``, and that opted-out hosts were left alone.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from census.testbed.server import RequestRecord

__all__ = ["HANDSHAKE_METHODS", "PolitenessReport", "politeness_report"]

#: JSON-RPC methods of the era-establishing requests (sent without Origin by a polite prober).
HANDSHAKE_METHODS = frozenset({"initialize", "notifications/initialized", "server/discover"})


@dataclass(frozen=True, slots=True)
class PolitenessReport:
    requests: int
    hosts: int
    max_requests_per_host_per_second: int  # most requests to one host within any 1 s window
    busiest_host: str | None
    tool_calls: int  # JSON-RPC tools/call requests received
    with_authorization: int  # requests carrying an Authorization header
    handshake_with_origin: int  # initialize / initialized / discover carrying Origin
    optout_requests: int  # requests to hosts listed in optouts.txt
    user_agents: frozenset[str]


def _max_window(times: list[float], window: float = 1.0) -> int:
    best, q = 0, deque[float]()
    for t in sorted(times):
        q.append(t)
        while q and t - q[0] >= window:
            q.popleft()
        best = max(best, len(q))
    return best


def politeness_report(
    records: Iterable[RequestRecord], optouts: Iterable[str] = ()
) -> PolitenessReport:
    """Summarise a request log (in memory, or parsed from ``requests.jsonl``)."""
    opted = set(optouts)
    per_host: dict[str, list[float]] = defaultdict(list)
    total = calls = auth = origin = opt = 0
    agents: set[str] = set()
    for r in records:
        total += 1
        per_host[r.host].append(r.time)
        calls += r.jsonrpc_method == "tools/call"
        auth += r.authorization
        origin += r.origin is not None and r.jsonrpc_method in HANDSHAKE_METHODS
        opt += r.host in opted
        if r.user_agent:
            agents.add(r.user_agent)
    rates = {host: _max_window(times) for host, times in per_host.items()}
    busiest = max(rates, key=lambda h: rates[h]) if rates else None
    return PolitenessReport(
        requests=total,
        hosts=len(per_host),
        max_requests_per_host_per_second=rates[busiest] if busiest else 0,
        busiest_host=busiest,
        tool_calls=calls,
        with_authorization=auth,
        handshake_with_origin=origin,
        optout_requests=opt,
        user_agents=frozenset(agents),
    )
