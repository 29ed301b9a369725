"""Hostile and oversized answers from real loopback servers become precise observations (issue
12, deliverables 3 and 4): probe, classify, and the stored form classifies the same again."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import anyio
import psycopg
import pytest
import sqlalchemy as sa

from census.classify import classify
from census.classify.evidence import STORED_BODY_CHARS
from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.probe.plan import probe_and_classify
from census.records import Evidence, Observation
from census.store.observations import Observed, libpq_url, write_observations
from census.store.runs import create_run
from tests.net.servers import serve
from tests.probe.hostile_servers import VERSION, Script, _tools, scripted_app

SETTINGS = ProbeSettings(
    allow_private=True,
    check_cors=False,
    ratelimit_requests=0,
    step_deadline=3.0,
    sse_endpoint_wait=3.0,
)


async def _observe(script: Script, **overrides: Any) -> tuple[Evidence, Observation]:
    """Probe and classify the scripted server; assert its stored evidence classifies the same."""
    settings = replace(SETTINGS, **overrides)
    async with serve(scripted_app(script)) as base, ProbeClient(settings) as client:
        with anyio.fail_after(30):
            evidence, observation = await probe_and_classify(f"{base}/mcp", settings, client)
    assert evidence.notes.get("census_error") is None, evidence.notes
    stored = Evidence.from_json(evidence.to_json())
    assert classify(stored) == observation  # re-classifying the stored form: same verdict
    return stored, observation


def _verdict(observation: Observation) -> tuple[str, str | None]:
    reason = observation.failure_reason
    return observation.status.value, None if reason is None else reason.value


def _step(evidence: Evidence, name: str) -> Any:
    return next(x for x in evidence.exchanges if x.step == name)


# --- Verdicts that match the evidence ------------------------------------------------------------


@pytest.mark.anyio
async def test_an_initialize_result_over_the_evidence_cap_is_classified_whole_stored_cut() -> None:
    script = Script()
    script.init_result = {**script.init_result, "instructions": "Use the tools wisely. " * 3000}
    evidence, observation = await _observe(script)
    assert _verdict(observation) == ("healthy", None)
    assert (observation.era, observation.server_name, observation.tool_count) == (
        "handshake",
        "scripted",
        3,
    )
    init = _step(evidence, "initialize")
    assert init.body_truncated and len(init.body) == STORED_BODY_CHARS  # stored cut ...
    assert init.parsed["json"]["result"]["serverInfo"] == {"name": "scripted", "version": "1.0"}
    assert "instructions" not in init.parsed["json"]["result"]  # ... with only what was read


@pytest.mark.anyio
async def test_authorization_server_metadata_over_the_evidence_cap_still_makes_oauth() -> None:
    script = Script(oauth_padding=4000)  # ~50 KiB of scopes_supported
    evidence, observation = await _observe(script)
    assert _verdict(observation) == ("auth_required", None)
    assert observation.auth_class is not None and observation.auth_class.value == "oauth"
    assert observation.oauth_issuer is not None and observation.oauth_issuer.endswith("/as")
    assert (observation.oauth_dcr, observation.oauth_pkce_s256) == (True, True)
    metadata = _step(evidence, "auth:as")
    assert metadata.body_truncated and metadata.parsed["json"]["code_challenge_methods_supported"]


@pytest.mark.anyio
async def test_a_probe_cut_by_its_target_deadline_mid_listing_is_degraded_timeout() -> None:
    script = Script(pages=[_tools(2), _tools(2, 2), _tools(2, 4)], hang_from_page=1)
    evidence, observation = await _observe(script, target_deadline=1.0, step_deadline=20.0)
    assert evidence.notes.get("target_deadline_hit") is True
    assert _verdict(observation) == ("degraded", "timeout")
    assert observation.tool_count is None and observation.tools == ()


@pytest.mark.anyio
async def test_list_answers_carrying_another_requests_id_are_not_counted() -> None:
    script = Script(wrong_list_id=True)
    _, observation = await _observe(script)
    assert _verdict(observation) == ("degraded", "protocol_error")
    assert observation.tool_count is None and observation.tools == ()


@pytest.mark.anyio
@pytest.mark.parametrize("retry_after", ["²", "٣", "9" * 5000, "soon"])
async def test_a_503_with_an_unparsable_retry_after_is_http_error(retry_after: str) -> None:
    script = Script(retry_after_503=retry_after)
    evidence, observation = await _observe(script)
    assert _verdict(observation) == ("http_error", "http_5xx")
    assert _step(evidence, "initialize").attempts == 1  # no wait on a delay nobody can read


@pytest.mark.anyio
async def test_a_protocol_version_with_crlf_is_a_protocol_error_stored_escaped() -> None:
    script = Script()
    script.init_result = {**script.init_result, "protocolVersion": f"{VERSION}\r\nX-Injected: 1"}
    _, observation = await _observe(script)
    assert _verdict(observation) == ("degraded", "protocol_error")
    assert observation.era is not None and observation.era.value == "handshake"
    assert observation.protocol_version == f"{VERSION}\\r\\nX-Injected: 1"
    # Never echoed into a header: no request after initialize carried it.
    assert not any("tools/list" in r for r in script.requests)


@pytest.mark.anyio
async def test_the_item_cap_holds_within_one_page() -> None:
    script = Script(pages=[_tools(5000)])
    evidence, observation = await _observe(script, max_items=1000)
    assert evidence.notes["list_stopped"] == {"tools/list": "item_cap"}
    assert _verdict(observation) == ("degraded", "list_failed")
    assert observation.tool_count is None and observation.tools == ()  # not 5,000 rows


# --- Parsers that cannot be crashed --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:99999/messages", "http://[::1/messages", "http://127.0.0.1:-1/x"],
)
async def test_an_sse_endpoint_event_that_is_no_url_is_a_protocol_error(endpoint: str) -> None:
    script = Script(legacy_endpoint=endpoint)
    evidence, observation = await _observe(script)
    assert "legacy_sse_endpoint_invalid" in evidence.notes
    assert _verdict(observation) == ("degraded", "protocol_error")
    assert observation.era is None


@pytest.mark.anyio
async def test_a_legacy_reply_nested_100000_deep_is_a_protocol_error() -> None:
    script = Script(legacy_endpoint="/messages", legacy_reply="[" * 100_000 + "]" * 100_000)
    evidence, observation = await _observe(script)
    reply = _step(evidence, "legacy_sse:initialize")
    assert (reply.error, reply.error_detail) == (
        "protocol_error",
        "reply on the event stream: nested too deep",
    )
    assert _verdict(observation) == ("degraded", "protocol_error")


@pytest.mark.anyio
async def test_a_well_behaved_legacy_server_is_still_legacy_sse() -> None:
    script = Script(legacy_endpoint="/messages")
    _, observation = await _observe(script)
    assert _verdict(observation) == ("healthy", None)
    assert observation.era is not None and observation.era.value == "legacy_sse"


@pytest.mark.anyio
async def test_a_million_character_tool_description_does_not_break_classification() -> None:
    tool = {"name": "big", "description": "x" * 1_000_000, "inputSchema": {"type": "object"}}
    script = Script(pages=[[tool]])
    _, observation = await _observe(script)
    assert _verdict(observation) == ("healthy", None)
    assert observation.tool_count == 1
    assert observation.tools[0].description == tool["description"]


@pytest.mark.anyio
async def test_a_server_name_with_a_lone_surrogate_is_classified() -> None:
    script = Script()
    script.init_result = {**script.init_result, "serverInfo": {"name": "bad\ud800name"}}
    _, observation = await _observe(script)
    assert _verdict(observation) == ("healthy", None)
    assert observation.server_name == "bad\ud800name"
    assert json.loads(json.dumps(observation.server_name)) == "bad\ud800name"


# --- stored in the real database, classified again -----------------------------------------------


@pytest.mark.anyio
async def test_oversized_answers_stored_in_the_database_reclassify_to_the_stored_verdict(
    database_url: str, engine: sa.Engine
) -> None:
    big_init = Script()
    big_init.init_result = {**big_init.init_result, "instructions": "Be careful. " * 5000}
    scripts = [big_init, Script(oauth_padding=4000), Script(wrong_list_id=True)]
    observed = [await _observe(script) for script in scripts]
    with engine.begin() as conn:
        run_id = create_run(conn, {})
        ids = [
            int(
                conn.execute(
                    sa.text("INSERT INTO endpoints (url, host) VALUES (:u, 'h') RETURNING id"),
                    {"u": f"http://h{i}.example/mcp"},
                ).scalar_one()
            )
            for i in range(len(observed))
        ]
    items = [Observed(i, obs, evidence) for i, (evidence, obs) in zip(ids, observed, strict=True)]
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        assert await write_observations(conn, run_id, items) == len(items)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT o.status, o.failure_reason, o.auth_class, o.server_name, ev.data::text"
                " FROM observations o JOIN evidence ev USING (run_id, endpoint_id)"
                " WHERE o.run_id = :run ORDER BY o.endpoint_id"
            ),
            {"run": run_id},
        ).all()
    assert [r[:4] for r in rows] == [
        ("healthy", None, "none", "scripted"),
        ("auth_required", None, "oauth", None),
        ("degraded", "protocol_error", "none", "scripted"),
    ]
    for status, reason, auth, name, document in rows:
        again = classify(Evidence.from_json(document))
        assert (again.status, again.failure_reason, again.auth_class, again.server_name) == (
            status,
            reason,
            auth,
            name,
        )
