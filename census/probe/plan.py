"""One target, start to finish: the sequence of steps, returning Evidence (never raising for
anything the remote side does).

    validate URL / policy ── POST server/discover ── POST initialize (unless discover reached
                                                      no HTTP server at all)
    ├─ modern DiscoverResult ........ modern lists (capabilities)
    ├─ InitializeResult ............. initialized → lists (unless listed modern) → DELETE
    ├─ 400/404/405, no modern error . GET event stream → legacy HTTP+SSE session
    ├─ 401/403 ...................... PRM → AS metadata (read-only)
    ├─ MCP confirmed ................ CORS preflight + foreign-Origin request; polite budget
    └─ TLS facts of the connection
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import anyio
from yarl import URL

from census.classify.evidence import stored_form
from census.classify.wire import discover_result, initialize_result, is_modern_error
from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.net.tlsinfo import inspect_certificate
from census.probe import cors
from census.probe.auth import discover_auth
from census.probe.handshake import finish_handshake, initialize, renegotiate
from census.probe.legacy_sse import probe_legacy_sse
from census.probe.modern import discover, modern_lists
from census.probe.ratelimit import polite_budget
from census.probe.rpc import (
    ProbeRun,
    handshake_headers,
    handshake_request,
    initialize_params,
    modern_headers,
    modern_request,
)
from census.records import Evidence, Observation
from census.vocabulary import FailureReason, Status

__all__ = ["census_error", "probe", "probe_and_classify", "url_problem"]

log = logging.getLogger(__name__)
_FALLBACK_STATUSES = frozenset({400, 404, 405})
_WALL = frozenset({401, 403})


def url_problem(url: str) -> FailureReason | None:
    """`invalid_url` for URLs the census never requests (bad scheme, no host, templates)."""
    if any(ch in url for ch in "{}<> \t\n") or "$" in url:
        return FailureReason.INVALID_URL
    try:
        parsed = URL(url)
    except ValueError:
        return FailureReason.INVALID_URL
    # Any userinfo (`user@`, `:password@` too): census never sends credentials.
    has_userinfo = parsed.raw_user is not None or parsed.raw_password is not None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host or has_userinfo:
        return FailureReason.INVALID_URL
    try:
        _ = parsed.port
    except ValueError:
        return FailureReason.INVALID_URL
    return None


async def probe(target_url: str, settings: ProbeSettings, client: ProbeClient) -> Evidence:
    """Collect everything the census observes about one endpoint."""
    started = datetime.now(UTC)
    run = ProbeRun(client, target_url)
    problem = url_problem(target_url)
    host = (URL(target_url).host or "").lower() if problem is None else ""
    if problem is not None:
        run.notes["skipped"] = str(problem)
    elif host in settings.optout_hosts:  # exact host names, as the opt-out list states them
        run.notes["skipped"] = str(FailureReason.OPTED_OUT)
    else:
        try:
            with anyio.fail_after(settings.target_deadline):
                await _sequence(run)
        except TimeoutError:
            run.notes["target_deadline_hit"] = True
        if not run.tls and URL(run.url).scheme == "https":
            errors = {x.error for x in run.exchanges if x.status is None}
            if "tls_error" in errors:
                run.tls.update(await inspect_certificate(client, run.url, verify=False))
            elif "protocol_error" in errors:
                run.tls.update(await inspect_certificate(client, run.url, verify=True))
    return Evidence(
        url=target_url,
        started_at=started,
        exchanges=tuple(run.exchanges),
        tls=dict(run.tls),
        notes=dict(run.notes),
    )


async def probe_and_classify(
    target_url: str, settings: ProbeSettings, client: ProbeClient
) -> tuple[Evidence, Observation]:
    """Probe, then classify (the one-off checks and the crawl); never raises.

    Remote misbehaviour is already data inside ``probe``; this guard makes census's *own*
    failures data too: whatever escapes probing or classifying becomes this endpoint's
    ``skipped``/``census_error`` observation, so one endpoint can never take its batch, shard
    or run down with it.  Cancellation is not an ``Exception`` and still propagates.
    """
    from census.classify import classify

    started = datetime.now(UTC)
    stage = "probe"
    try:
        evidence = await probe(target_url, settings, client)
        stage = "classify"
        # Classified from whole bodies; returned (to store or write) in the stored form, whose
        # cut bodies carry what classification read of them (census.classify.evidence).
        return stored_form(evidence), classify(evidence)
    except Exception as exc:
        log.exception("census failed to %s %s", stage, target_url)
        return census_error(target_url, started, stage, exc)


def census_error(
    url: str, started: datetime, stage: str, exc: BaseException
) -> tuple[Evidence, Observation]:
    """The observation of an endpoint census's own code failed on (at ``stage``).

    The evidence says where and which exception type, never the message or a traceback (they
    can carry remote text and belong in the operator's log); classifying it again gives the
    same observation, like any stored evidence.
    """
    from census import METHODOLOGY_VERSION
    from census.classify import classify

    evidence = Evidence(
        url=url,
        started_at=started,
        notes={
            "skipped": FailureReason.CENSUS_ERROR.value,
            "census_error": f"{stage}: {type(exc).__name__}",
        },
    )
    try:
        return evidence, classify(evidence)
    except Exception:  # the classifier itself is broken: the same verdict, stated directly
        log.exception("census failed to classify its own census_error evidence")
    try:
        host = (URL(url).host or "").lower()
    except ValueError:
        host = ""
    observation = Observation(
        url=url,
        host=host,
        registrable_domain=None,
        probed_at=started,
        status=Status.SKIPPED,
        failure_reason=FailureReason.CENSUS_ERROR,
        methodology_version=METHODOLOGY_VERSION,
    )
    return evidence, observation


async def _sequence(run: ProbeRun) -> None:
    # One after the other on one kept-alive connection, not raced on two: the race cost a
    # second TCP + TLS handshake per endpoint (the largest single CPU item of a probe) to save
    # one round trip.  A discover that reached no HTTP server ends the probe: initialize would
    # go to the same address and port.
    disc = await discover(run)
    if disc.error in _UNREACHABLE:
        return
    init = await initialize(run)
    init = await renegotiate(run, init)
    modern = discover_result(disc) is not None
    handshake = initialize_result(init) is not None
    legacy = False
    modern_evidence = is_modern_error(disc) or is_modern_error(init)
    # HTTP+SSE only on 400/404/405 without a modern error (never on 401/403/406/415/421/429).
    if (
        not (modern or handshake or modern_evidence)
        and init.status in _FALLBACK_STATUSES
        and disc.status not in _WALL
    ):
        legacy = await probe_legacy_sse(run)
    if not (modern or handshake or legacy):
        wall = next((x for x in (init, disc) if x.status in _WALL), None)
        if wall is not None:
            await discover_auth(run, wall)
            if run.settings.check_cors:
                # Browser exposure of the wall itself; no Origin test (401 either way).
                await cors.preflight(run, cors.foreign_origin())
        return
    if modern:
        await modern_lists(run, disc)
        if _lists_ok(run) and run.settings.ratelimit_requests:
            await polite_budget(
                run,
                lambda i: (modern_request(i, "server/discover"), modern_headers("server/discover")),
            )
    if handshake:
        await finish_handshake(run, init, list_items=not modern, budget=not modern)
    if run.settings.check_cors:
        await _cors(run, modern=modern, handshake=handshake)


_UNREACHABLE = frozenset(
    {
        "dns_error",
        "connect_refused",
        "connect_timeout",
        "tls_error",
        "private_address",
        "invalid_url",
    }
)


def _lists_ok(run: ProbeRun) -> bool:
    return all(
        x.status is not None and 200 <= x.status < 300
        for x in run.exchanges
        if x.step.startswith("modern:")
    )


async def _cors(run: ProbeRun, *, modern: bool, handshake: bool) -> None:
    origin = cors.foreign_origin()
    await cors.preflight(run, origin)
    rpc_id = run.next_id()
    body: dict[str, Any]
    if modern:
        body, headers = modern_request(rpc_id, "server/discover"), modern_headers("server/discover")
    elif handshake:
        body = handshake_request(rpc_id, "initialize", initialize_params())
        headers = handshake_headers()
    else:
        await _legacy_origin(run, origin)
        return
    answer = await cors.origin_check(run, origin, body, headers, rpc_id)
    session_id = answer.response_headers.get("mcp-session-id")
    if session_id and answer.status is not None and 200 <= answer.status < 300:
        # Accepting the foreign Origin opened a session: close it again.
        await run.send("cors:delete", "DELETE", headers=handshake_headers(session_id))


async def _legacy_origin(run: ProbeRun, origin: str) -> None:
    """HTTP+SSE has no POST on its URL: test Origin on the stream GET (closed at once)."""
    async with run.client.open_sse("cors:origin", run.url, {"Origin": origin}) as stream:
        await stream.connect()
        run.record(stream.exchange())
