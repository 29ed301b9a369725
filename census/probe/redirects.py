"""Redirects are never followed blindly: only `/mcp` <-> `/mcp/` on the same origin, re-POSTed
once with the same body (a 301/302 must not turn a POST into a GET); anything else stays a
recorded 3xx, which the classifier reports as `redirect_refused`."""

from __future__ import annotations

from typing import Any

from yarl import URL

from census.net.client import without_userinfo
from census.probe.rpc import ProbeRun
from census.records import Exchange

__all__ = ["REDIRECT_STATUSES", "post_following", "slash_twin"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def slash_twin(url: str, location: str) -> str | None:
    """The absolute target if it is the same origin and path differing only by a final slash."""
    base = URL(url)
    try:
        target = base.join(URL(location))
    except ValueError:
        return None
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None
    if target.path.rstrip("/") != base.path.rstrip("/") or target.path == base.path:
        return None
    return str(target.with_fragment(None))


async def post_following(
    run: ProbeRun, step: str, body: dict[str, Any], headers: dict[str, str], rpc_id: int | None
) -> Exchange:
    exchange = await run.send(step, "POST", headers=headers, json_body=body, rpc_id=rpc_id)
    for _hop in range(run.settings.max_redirects):
        if exchange.status not in REDIRECT_STATUSES:
            break
        # The base is the URL this answer came from, whatever run.url says by now.
        target = slash_twin(exchange.url, exchange.response_headers.get("location", ""))
        if target is None:
            break
        # Evidence never keeps a credential a server put in a Location (the request drops it
        # too, at the client's chokepoint, and its Exchange says so).
        run.notes["redirected_to"] = without_userinfo(target)[0]
        run.url = target
        exchange = await run.send(
            step, "POST", target, headers=headers, json_body=body, rpc_id=rpc_id
        )
    return exchange
