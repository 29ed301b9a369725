"""Flapping endpoints: servers whose answer changes between two probes of one run (issue 13).

No clock tricks: a flapping endpoint counts *visits*.  A request that arrives after at least
:data:`VISIT_GAP` seconds of silence from that endpoint starts a new visit; every request of
one probe arrives well within that gap of the previous one (the per-host limiter spaces them
by at most half a second), and census's confirmation probe comes at least the confirmation
delay after the first probe, which on a simulated internet (2 s by default, ``census crawl
--testbed``) exceeds the gap.  So visit 1 is census's first probe and visit 2 its
confirmation, whatever the wall clock says.

========================  ==========  ==========  ===========================================
entry                     visit 1     visit 2+    truth (status, attempts, confirmed, flapping)
========================  ==========  ==========  ===========================================
``flap_down_up``          down        up          healthy, 2, false, true
``flap_up_down``          up          down        healthy, 1, empty, empty (never re-probed)
``flap_down_down``        down        down        unreachable/connection_reset, 2, true, false
``flap_5xx_up``           503         up          healthy, 2, false, true
========================  ==========  ==========  ===========================================

*Down* closes the connection without an answer (census: ``unreachable``,
``connection_reset``); *up* is a working MCP server without authorization.
"""

from __future__ import annotations

import time
from typing import Final

from aiohttp import web

from census.testbed.model import Endpoint

__all__ = ["FLAPS", "VISIT_GAP", "Visits", "expected_attempts", "flap_answer"]

#: Silence, in seconds, after which a request starts a new visit.
VISIT_GAP: Final = 1.5
#: behaviour → (state on visit 1, state on every later visit).
FLAPS: Final[dict[str, tuple[str, str]]] = {
    "flap_down_up": ("down", "up"),
    "flap_up_down": ("up", "down"),
    "flap_down_down": ("down", "down"),
    "flap_5xx_up": ("5xx", "up"),
}


class Visits:
    """Visit counting per endpoint (one instance per simulated internet)."""

    def __init__(self) -> None:
        self._last: dict[int, float] = {}
        self._visit: dict[int, int] = {}

    def state(self, ep: Endpoint) -> str:
        """The state the endpoint is in for this request (counting it)."""
        now = time.monotonic()
        last = self._last.get(ep.index)
        if last is None or now - last >= VISIT_GAP:
            self._visit[ep.index] = self._visit.get(ep.index, 0) + 1
        self._last[ep.index] = now
        first, later = FLAPS[ep.profile.behaviour]
        return first if self._visit[ep.index] == 1 else later


def flap_answer(state: str, request: web.Request) -> web.StreamResponse | None:
    """What a flapping endpoint answers in ``state``; None: answer as the working server."""
    if state == "up":
        return None
    if state == "5xx":
        return web.Response(
            status=503,
            content_type="text/html",
            text="<html><body><h1>503 Service Unavailable</h1></body></html>",
        )
    # Down: the server process is gone; the connection closes without an answer.
    if request.transport is not None:
        request.transport.close()
    raise web.HTTPServiceUnavailable()  # never written: the transport is closed


def expected_attempts(behaviour: str) -> tuple[str, str, str]:
    """(attempts, confirmed, flapping) as the manifest writes them."""
    first, later = FLAPS[behaviour]
    if first == "up":
        return "1", "", ""
    agree = (first == "down") == (later == "down") and first == later
    return "2", "true" if agree else "false", "false" if agree else "true"
