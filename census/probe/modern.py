"""The 2026-07-28 era: `server/discover`, then the advertised lists, stateless."""

from __future__ import annotations

from typing import Any

from census.classify.wire import discover_result
from census.probe.lists import LIST_KEYS, http_call, walk_list
from census.probe.redirects import post_following
from census.probe.rpc import ProbeRun, modern_headers, modern_request
from census.records import Exchange

__all__ = ["discover", "modern_lists"]


async def discover(run: ProbeRun) -> Exchange:
    """POST `server/discover` with the envelope and headers (following a slash redirect once)."""
    rpc_id = run.next_id()
    return await post_following(
        run,
        "discover",
        modern_request(rpc_id, "server/discover"),
        modern_headers("server/discover"),
        rpc_id,
    )


def _build(
    rpc_id: int, method: str, params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    return modern_request(rpc_id, method, params), modern_headers(method)


async def modern_lists(run: ProbeRun, discover_exchange: Exchange) -> None:
    """List everything the DiscoverResult advertises."""
    result = discover_result(discover_exchange) or {}
    capabilities = result.get("capabilities")
    capabilities = capabilities if isinstance(capabilities, dict) else {}
    for method, (_, capability) in LIST_KEYS.items():
        if capability in capabilities:
            await walk_list(run, method, http_call(run, "modern", _build))
