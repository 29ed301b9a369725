"""A small polite rate-limit budget on healthy endpoints: a few read-only requests, spaced,
stopping at the first 429 (never a load test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from census.classify.ratelimit_headers import parse_rate_limit
from census.probe.rpc import ProbeRun

__all__ = ["polite_budget"]


async def polite_budget(
    run: ProbeRun, build: Callable[[int], tuple[dict[str, Any], dict[str, str]]]
) -> None:
    """Send up to ``ratelimit_requests`` requests built by ``build``; stop at the first 429."""
    for _ in range(run.settings.ratelimit_requests):
        await anyio.sleep(run.settings.ratelimit_spacing)  # politeness spacing, not a test wait
        rpc_id = run.next_id()
        body, headers = build(rpc_id)
        exchange = await run.send(
            "ratelimit", "POST", headers=headers, json_body=body, rpc_id=rpc_id
        )
        # Stop at the first 429 (also one retried away), error, or quota reported as used up.
        if (
            exchange.status == 429
            or exchange.error is not None
            or any(r.get("status") == 429 for r in exchange.retried)
            or parse_rate_limit(exchange.response_headers).exhausted
        ):
            return
