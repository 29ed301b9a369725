"""Cursor pagination of `tools/list`, `resources/list`, `prompts/list` (both eras).

Page and item caps (items counted across pages and within one page), and loop detection (a
cursor seen before ends the walk).  A walk that stops early notes why in ``list_stopped``
(``cursor_loop``, ``item_cap``, ``page_cap``); the classifier reports it ``list_failed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from census.classify.wire import rpc_message
from census.probe.rpc import ProbeRun
from census.records import Exchange

__all__ = ["LIST_KEYS", "http_call", "walk_list"]

#: list method -> the result field holding its items, and the capability advertising it.
LIST_KEYS = {
    "tools/list": ("tools", "tools"),
    "resources/list": ("resources", "resources"),
    "prompts/list": ("prompts", "prompts"),
}

BuildRequest = Callable[[int, str, dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]
#: Sends one list request and returns the exchange holding its answer (legacy SSE: the reply).
Call = Callable[[int, str, dict[str, Any]], Awaitable[Exchange]]


def http_call(run: ProbeRun, era: str, build: BuildRequest) -> Call:
    """A Streamable HTTP list call: one POST whose answer (JSON or SSE) is the reply."""

    async def call(rpc_id: int, method: str, params: dict[str, Any]) -> Exchange:
        body, headers = build(rpc_id, method, params)
        return await run.send(
            f"{era}:{method}",
            "POST",
            headers=headers,
            json_body=body,
            rpc_id=rpc_id,
            keep_body=run.settings.max_decoded_bytes,
            large=True,
        )

    return call


async def walk_list(run: ProbeRun, method: str, call: Call) -> bool:
    """Fetch every page of ``method``; True when all pages came back as valid results."""
    key, _ = LIST_KEYS[method]
    cursor: str | None = None
    seen: set[str] = set()
    items = 0
    for _page in range(run.settings.max_pages):
        rpc_id = run.next_id()
        params: dict[str, Any] = {} if cursor is None else {"cursor": cursor}
        exchange = await call(rpc_id, method, params)
        message = rpc_message(exchange, rpc_id)
        result = message.get("result") if message else None
        if not isinstance(result, dict) or not isinstance(result.get(key), list):
            return False
        items += len(result[key])
        if items > run.settings.max_items:
            # The item cap holds within one page too (a page of 100,000 tools is not stored as
            # 100,000 rows): the listing is reported incomplete, like one past the page cap.
            run.notes.setdefault("list_stopped", {})[method] = "item_cap"
            return False
        next_cursor = result.get("nextCursor")
        if not isinstance(next_cursor, str) or not next_cursor:
            return True
        # A repeating cursor or a listing past our caps is a listing that did not complete.
        if next_cursor in seen:
            run.notes.setdefault("list_stopped", {})[method] = "cursor_loop"
            return False
        if items >= run.settings.max_items:
            run.notes.setdefault("list_stopped", {})[method] = "item_cap"
            return False
        seen.add(next_cursor)
        cursor = next_cursor
    run.notes.setdefault("list_stopped", {})[method] = "page_cap"
    return False
