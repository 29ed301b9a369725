"""Browser exposure: an OPTIONS preflight from a random foreign origin, and a POST carrying that
Origin (the spec requires 403 for a foreign Origin, against DNS rebinding)."""

from __future__ import annotations

import secrets
from typing import Any

from census.probe.rpc import ProbeRun
from census.records import Exchange

__all__ = ["foreign_origin", "origin_check", "preflight"]

_REQUEST_HEADERS = "content-type, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name"


def foreign_origin() -> str:
    # Unregistrable (.invalid) and recognisable in server logs; random so no allowlist matches.
    return f"https://census-probe-{secrets.token_hex(4)}.invalid"


async def preflight(run: ProbeRun, origin: str) -> Exchange:
    return await run.send(
        "cors:preflight",
        "OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": _REQUEST_HEADERS,
        },
    )


async def origin_check(
    run: ProbeRun, origin: str, body: dict[str, Any], headers: dict[str, str], rpc_id: int
) -> Exchange:
    """Repeat a request that succeeded, now with a foreign Origin."""
    return await run.send(
        "cors:origin",
        "POST",
        headers={**headers, "Origin": origin},
        json_body=body,
        rpc_id=rpc_id,
    )
