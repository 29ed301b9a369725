"""The prober against real servers: the official `mcp` 2.3.0 SDK (dual era) in each mode, with
and without OAuth, and an equivalent of the handshake-only 1.x line including HTTP+SSE."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import anyio
import pytest

from census.classify import classify
from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.probe.plan import probe
from tests.net.servers import serve
from tests.probe.sdk1_equivalent import sdk1_app
from tests.probe.sdk_servers import sdk_server

SETTINGS = ProbeSettings(allow_private=True, ratelimit_spacing=0.0, step_deadline=5.0)

OPEN_SDK2 = dict(
    status="healthy",
    failure_reason=None,
    era="dual",
    transport="streamable_http",
    protocol_version="2026-07-28",
    server_name="census-sdk-test",
    server_version="2.3.0-test",
    auth_class="none",
    tool_count=3,
    resource_count=0,
    prompt_count=1,
    # The SDK's DNS-rebinding guard is on for 127.0.0.1: foreign Origins get 403, and the
    # preflight is refused too (no Access-Control-Allow-Origin).
    origin_validated=True,
    cors_class="none",
    rate_limit_class="none_observed",
    tls="none",
)


def _observed(observation: Any, keys: dict[str, object]) -> dict[str, object]:
    got = {k: getattr(observation, k) for k in keys}
    return {k: (v.value if hasattr(v, "value") else v) for k, v in got.items()}


async def _probe(url: str) -> Any:
    async with ProbeClient(SETTINGS) as client:
        with anyio.fail_after(60):
            evidence = await probe(url, SETTINGS, client)
    return evidence, classify(evidence)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("json_response", "stateless", "session"),
    [
        (False, False, "stateful"),
        (True, False, "stateful"),
        (False, True, "stateless"),
        (True, True, "stateless"),
    ],
    ids=["sse-stateful", "json-stateful", "sse-stateless", "json-stateless"],
)
async def test_the_sdk_2_server_is_dual_era_in_every_mode(
    json_response: bool, stateless: bool, session: str
) -> None:
    with sdk_server(json_response=json_response, stateless=stateless) as server:
        evidence, observation = await _probe(server.url)
    assert _observed(observation, OPEN_SDK2) == OPEN_SDK2
    assert observation.session is not None and observation.session.value == session
    steps = [x.step for x in evidence.exchanges]
    assert steps.count("ratelimit") == SETTINGS.ratelimit_requests
    if session == "stateful":
        assert "delete" in steps  # the session we opened was closed again


@pytest.mark.anyio
async def test_the_sdk_2_sse_transport_is_legacy_http_sse() -> None:
    with sdk_server(transport="sse") as server:
        _, observation = await _probe(server.url)
    expected = dict(
        status="healthy",
        era="legacy_sse",
        transport="sse",
        session=None,
        protocol_version="2025-11-25",
        tool_count=3,
        prompt_count=1,
        origin_validated=True,
    )
    assert _observed(observation, expected) == expected


@pytest.mark.anyio
async def test_the_sdk_2_resource_server_without_as_metadata_is_oauth_partial() -> None:
    with sdk_server(auth="resource_server") as server:
        evidence, observation = await _probe(server.url)
    expected = dict(
        status="auth_required",
        failure_reason=None,
        era=None,
        auth_class="oauth_partial",
        oauth_issuer=None,
        tool_count=None,
    )
    assert _observed(observation, expected) == expected
    prm = [x for x in evidence.exchanges if x.step == "auth:prm"]
    assert prm[0].url.endswith("/.well-known/oauth-protected-resource/mcp") and prm[0].status == 200
    assert all("Authorization" not in x.request_headers for x in evidence.exchanges)


@pytest.mark.anyio
async def test_the_sdk_2_server_with_its_authorization_server_is_oauth() -> None:
    with sdk_server(auth="full") as server:
        _, observation = await _probe(server.url)
    expected = dict(
        status="auth_required",
        auth_class="oauth",
        oauth_issuer=f"http://127.0.0.1:{server.port}",
        oauth_dcr=True,
        oauth_cimd=False,
        oauth_pkce_s256=True,
    )
    assert _observed(observation, expected) == expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("stateless", "json_response"),
    [(False, False), (False, True), (True, False), (True, True)],
    ids=["stateful-sse", "stateful-json", "stateless-sse", "stateless-json"],
)
async def test_a_handshake_only_server_is_handshake_era(
    stateless: bool, json_response: bool
) -> None:
    async with serve(sdk1_app(stateless=stateless, json_response=json_response)) as base:
        evidence, observation = await _probe(f"{base}/mcp")
    expected = dict(
        status="healthy",
        era="handshake",
        transport="streamable_http",
        protocol_version="2025-11-25",
        server_name="sdk1-equivalent",
        session="stateless" if stateless else "stateful",
        tool_count=4,
        prompt_count=1,
        resource_count=None,
        origin_validated=True,
    )
    assert _observed(observation, expected) == expected
    methods = [
        (x.request_body or {}).get("method")
        for x in evidence.exchanges
        if isinstance(x.request_body, dict)
    ]
    assert "tools/call" not in methods and methods.count("initialize") >= 1


@pytest.mark.anyio
async def test_a_handshake_only_legacy_sse_server_is_legacy_sse() -> None:
    async with serve(sdk1_app(stateless=False, json_response=True)) as base:
        _, observation = await _probe(f"{base}/sse")
    expected = dict(
        status="healthy",
        era="legacy_sse",
        transport="sse",
        session=None,
        protocol_version="2025-11-25",
        tool_count=4,
        prompt_count=1,
        origin_validated=True,
    )
    assert _observed(observation, expected) == expected


def test_settings_used_here_are_the_defaults_but_for_speed() -> None:
    assert replace(SETTINGS, allow_private=False, ratelimit_spacing=0.25, step_deadline=10.0) == (
        ProbeSettings()
    )
