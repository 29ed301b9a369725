"""The 2024-11-05 HTTP+SSE transport: GET an event stream, POST to its `endpoint`, read replies
on the stream.  Tried only when Streamable HTTP answered 400/404/405 without a modern error."""

from __future__ import annotations

import json
from typing import Any

import anyio
from yarl import URL

from census.classify.wire import initialize_result
from census.net.client import SSEStream
from census.probe.lists import LIST_KEYS, walk_list
from census.probe.rpc import ProbeRun, handshake_request, initialize_params
from census.records import Exchange

__all__ = ["probe_legacy_sse"]


async def probe_legacy_sse(run: ProbeRun) -> bool:
    """Run the whole legacy exchange; True when `initialize` was answered on the stream."""
    async with run.client.open_sse("legacy_sse:get", run.url) as stream:
        try:
            return await _session(run, stream)
        finally:
            run.record(stream.exchange())


async def _session(run: ProbeRun, stream: SSEStream) -> bool:
    if not await stream.connect() or stream.status != 200:
        return False
    if "text/event-stream" not in stream.response_headers.get("content-type", ""):
        return False
    endpoint = await _endpoint(run, stream)
    if endpoint is None:
        return False
    rpc_id = run.next_id()
    init = await _call(
        run,
        stream,
        endpoint,
        "initialize",
        rpc_id,
        handshake_request(rpc_id, "initialize", initialize_params()),
    )
    result = initialize_result(init)
    if result is None:
        return False
    await run.send(
        "legacy_sse:initialized",
        "POST",
        endpoint,
        headers={"Content-Type": "application/json"},
        json_body=handshake_request(None, "notifications/initialized"),
    )
    capabilities = result.get("capabilities")
    capabilities = capabilities if isinstance(capabilities, dict) else {}

    async def call(rpc_id: int, method: str, params: dict[str, Any]) -> Exchange:
        return await _call(
            run, stream, endpoint, method, rpc_id, handshake_request(rpc_id, method, params)
        )

    for method, (_, capability) in LIST_KEYS.items():
        if capability in capabilities:
            await walk_list(run, method, call)
    return True


async def _endpoint(run: ProbeRun, stream: SSEStream) -> str | None:
    """The first `endpoint` event, resolved against the stream URL; cross-origin is refused."""
    try:
        with anyio.fail_after(run.settings.sse_endpoint_wait):
            while True:
                event = await stream.next_event(run.settings.sse_endpoint_wait)
                if event is None:
                    return None
                if event.event == "endpoint" and event.data.strip():
                    break
    except TimeoutError:
        return None
    base = URL(run.url)
    target = base.join(URL(event.data.strip()))
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        run.notes["legacy_sse_cross_origin_endpoint"] = str(target)
        return None
    run.notes["legacy_sse_endpoint"] = str(target)
    return str(target)


async def _call(
    run: ProbeRun, stream: SSEStream, endpoint: str, method: str, rpc_id: int, body: dict[str, Any]
) -> Exchange:
    """POST one request (expect 202) and wait for its reply on the stream."""
    post = await run.send(
        f"legacy_sse:{method}:post",
        "POST",
        endpoint,
        headers={"Content-Type": "application/json"},
        json_body=body,
    )
    reply_step = f"legacy_sse:{method}"
    if post.status is None or post.status >= 400:
        return post
    try:
        with anyio.fail_after(run.settings.step_deadline):
            while True:
                event = await stream.next_event(run.settings.step_deadline)
                if event is None:
                    break
                if event.event != "message" or not event.data:
                    continue
                try:
                    message = json.loads(event.data)
                except ValueError:
                    continue
                if isinstance(message, dict) and message.get("id") == rpc_id:
                    return run.record(
                        Exchange(
                            step=reply_step,
                            method="SSE",
                            url=stream.url,
                            status=200,
                            response_headers={"content-type": "application/json"},
                            body=event.data[: run.settings.max_decoded_bytes],
                        )
                    )
    except TimeoutError:
        pass
    return run.record(
        Exchange(
            step=reply_step,
            method="SSE",
            url=stream.url,
            error="timeout",
            error_detail="no reply on the event stream",
        )
    )
