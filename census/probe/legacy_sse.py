"""The 2024-11-05 HTTP+SSE transport: GET an event stream, POST to its `endpoint`, read replies
on the stream.  Tried only when Streamable HTTP answered 400/404/405 without a modern error."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
from yarl import URL

from census.classify.wire import initialize_result, same_id
from census.net.client import SSEStream, without_userinfo
from census.probe.lists import LIST_KEYS, walk_list
from census.probe.rpc import ProbeRun, handshake_request, initialize_params
from census.records import Exchange

#: userinfo in text that is no URL yarl can parse (kept as evidence, credentials redacted)
_USERINFO = re.compile(r"(//)[^/@\s]*@")

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
    data = event.data.strip()
    try:
        base = URL(run.url)
        target = base.join(URL(data))
        origin = (target.scheme, target.host, target.port)  # .port raises past 65535
    except ValueError as exc:
        # Not a URL at all, or a port out of range: an MCP signal whose session cannot start.
        run.notes["legacy_sse_endpoint_invalid"] = _USERINFO.sub(
            r"\1REDACTED@", f"{type(exc).__name__}: {exc}"[:200]
        )
        run.notes["legacy_sse_endpoint_data"] = _USERINFO.sub(r"\1REDACTED@", data[:512])
        return None
    if origin != (base.scheme, base.host, base.port):
        run.notes["legacy_sse_cross_origin_endpoint"] = without_userinfo(str(target))[0]
        return None
    # The note never keeps a credential the server put in the URL; the request drops it too.
    run.notes["legacy_sse_endpoint"] = without_userinfo(str(target))[0]
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
                except (ValueError, RecursionError) as exc:
                    # A message we cannot read arrived where the reply was due: that is the
                    # answer, unreadable (RecursionError: nested past the parser's limit).
                    detail = "nested too deep" if isinstance(exc, RecursionError) else "not JSON"
                    return run.record(
                        _reply(run, stream, reply_step, body, event.data, detail=detail)
                    )
                if isinstance(message, dict) and same_id(message.get("id"), rpc_id):
                    return run.record(_reply(run, stream, reply_step, body, event.data))
    except TimeoutError:
        pass
    return run.record(
        Exchange(
            step=reply_step,
            method="SSE",
            url=stream.url,
            request_body=body,
            error="timeout",
            error_detail="no reply on the event stream",
        )
    )


def _reply(
    run: ProbeRun,
    stream: SSEStream,
    step: str,
    request: dict[str, Any],
    data: str,
    *,
    detail: str | None = None,
) -> Exchange:
    """The reply read on the stream as an exchange (``detail``: why it is unreadable)."""
    return Exchange(
        step=step,
        method="SSE",
        url=stream.url,
        request_body=request,
        status=200,
        response_headers={"content-type": "application/json"},
        body=data[: run.settings.max_decoded_bytes],
        error=None if detail is None else "protocol_error",
        error_detail=None if detail is None else f"reply on the event stream: {detail}",
    )
