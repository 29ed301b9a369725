"""The handshake era over Streamable HTTP: initialize -> initialized -> lists -> DELETE."""

from __future__ import annotations

from typing import Any

from census.classify.wire import (
    HANDSHAKE_VERSIONS,
    initialize_result,
    rpc_message,
    supported_versions,
    valid_version,
)
from census.probe.lists import LIST_KEYS, http_call, walk_list
from census.probe.ratelimit import polite_budget
from census.probe.redirects import post_following
from census.probe.rpc import ProbeRun, handshake_headers, handshake_request, initialize_params
from census.records import Exchange

__all__ = ["finish_handshake", "initialize", "renegotiate"]


async def initialize(
    run: ProbeRun, version: str | None = None, step: str = "initialize"
) -> Exchange:
    """POST `initialize` at the newest handshake revision; no MCP-Protocol-Version, no Origin."""
    rpc_id = run.next_id()
    params = initialize_params() if version is None else initialize_params(version)
    return await post_following(
        run, step, handshake_request(rpc_id, "initialize", params), handshake_headers(), rpc_id
    )


async def renegotiate(run: ProbeRun, first: Exchange) -> Exchange:
    """One retry when the server rejected our version but named one it supports."""
    if initialize_result(first) is not None or rpc_message(first) is None:
        return first
    mutual = [v for v in supported_versions(first) if v in HANDSHAKE_VERSIONS]
    if not mutual:
        return first
    return await initialize(run, mutual[0], step="initialize:retry")


async def finish_handshake(
    run: ProbeRun, init: Exchange, *, list_items: bool, budget: bool
) -> None:
    """initialized, the advertised lists (unless another era lists them), the polite rate-limit
    budget (``ping`` in the session, only when every list succeeded), then DELETE."""
    result = initialize_result(init) or {}
    version = str(result.get("protocolVersion"))
    session_id = init.response_headers.get("mcp-session-id") or None
    if not valid_version(version):
        # A version with CR/LF (or anything else no revision looks like) is never echoed into
        # MCP-Protocol-Version: the classifier reports the protocol error; just free the session.
        if session_id is not None:
            await run.send("delete", "DELETE", headers=handshake_headers(session_id))
        return
    headers = handshake_headers(session_id, version)
    await run.send(
        "initialized",
        "POST",
        headers=headers,
        json_body=handshake_request(None, "notifications/initialized"),
    )
    if list_items:
        capabilities = result.get("capabilities")
        capabilities = capabilities if isinstance(capabilities, dict) else {}

        def build(
            rpc_id: int, method: str, params: dict[str, Any]
        ) -> tuple[dict[str, Any], dict[str, str]]:
            return handshake_request(rpc_id, method, params), headers

        ok = True
        for method, (_, capability) in LIST_KEYS.items():
            if capability in capabilities:
                ok = await walk_list(run, method, http_call(run, "handshake", build)) and ok
        if ok and budget and run.settings.ratelimit_requests:
            await polite_budget(run, lambda i: (handshake_request(i, "ping"), headers))
    if session_id is not None:
        # Free the server's session: census etiquette.
        await run.send("delete", "DELETE", headers=handshake_headers(session_id, version))
