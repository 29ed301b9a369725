"""Evidence is classified whole and stored cut: the stored form classifies the same (issue 12).

Also: answers are matched to the request's JSON-RPC id, and protocol versions census cannot
echo are protocol errors stored escaped.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from census.classify import classify
from census.classify.evidence import STORED_BODY_CHARS, stored_form
from census.classify.wire import escaped_version, rpc_message, valid_version
from census.records import Evidence, Exchange
from tests.classify.factories import DISCOVER_OK, INIT_OK, err, ev, ok, tools_page, x

PAD = "p" * (STORED_BODY_CHARS + 100)
NOTIFICATION = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"data": PAD}}


def _sent(exchange: Exchange, rpc_id: int) -> Exchange:
    """The exchange as the prober records it: with the request it answered."""
    return replace(exchange, request_body={"jsonrpc": "2.0", "id": rpc_id, "method": "m"})


def _padded_init(**extra: Any) -> dict[str, Any]:
    result = {**INIT_OK["result"], "instructions": PAD, **extra}
    return ok(2, result)


def _round_trip(evidence: Evidence) -> Evidence:
    return Evidence.from_json(stored_form(evidence).to_json())


CASES: list[tuple[str, Evidence]] = [
    (
        "handshake: a long initialize result",
        ev(
            x("discover", 400, err(1, -32600, "no")), _sent(x("initialize", 200, _padded_init()), 2)
        ),
    ),
    (
        "handshake over SSE, the padding in a notification before the answer",
        ev(
            x("discover", 404, "not found"),
            x(
                "initialize",
                200,
                f"event: message\ndata: {json.dumps(NOTIFICATION)}\n\n"
                f"event: message\ndata: {json.dumps(INIT_OK)}\n\n",
                {"content-type": "text/event-stream"},
            ),
        ),
    ),
    (
        "modern: supportedVersions and capabilities padded",
        ev(
            x(
                "discover",
                200,
                ok(
                    1,
                    {
                        **DISCOVER_OK["result"],
                        "supportedVersions": [f"v{i}" for i in range(3000)] + ["2026-07-28"],
                        "capabilities": {"tools": {}, **{f"x{i}": {} for i in range(2000)}},
                    },
                ),
            ),
            x("initialize", 404, err(2, -32601, "Method not found")),
            x("modern:tools/list", 200, tools_page(3, 2)),
        ),
    ),
    (
        "a modern error whose _meta mention is past the cut",
        ev(
            x("discover", 400, err(1, -32602, PAD + " _meta missing")),
            x("initialize", 400, err(2, -32602, PAD + " _meta missing")),
        ),
    ),
    ("a long HTML page", ev(x("initialize", 200, "<html>" + PAD, {"content-type": "text/html"}))),
    ("long JSON that is no JSON-RPC", ev(x("initialize", 200, {"items": [PAD]}))),
    (
        "a long answer carrying another request's id",
        ev(_sent(x("initialize", 200, _padded_init() | {"id": 99}), 2)),
    ),
    (
        "an id that is a long object",
        ev(_sent(x("initialize", 200, ok(2, INIT_OK["result"]) | {"id": {"k": PAD}}), 2)),
    ),
    (
        "OAuth metadata padded",
        ev(
            x(
                "initialize",
                401,
                "",
                {"www-authenticate": 'Bearer resource_metadata="https://mcp.example.com/prm"'},
            ),
            x(
                "auth:prm",
                200,
                {
                    "resource": "https://mcp.example.com/mcp",
                    "authorization_servers": ["https://as.example.com", PAD],
                },
                method="GET",
            ),
            x(
                "auth:as",
                200,
                {
                    "issuer": "https://as.example.com",
                    "registration_endpoint": "https://as.example.com/reg",
                    "code_challenge_methods_supported": ["plain", "S256"],
                    "scopes_supported": [PAD],
                },
                method="GET",
            ),
        ),
    ),
    (
        "an API key named only past the stored prefix",
        ev(x("initialize", 401, PAD + " send your api key", {"content-type": "text/plain"})),
    ),
]


@pytest.mark.parametrize("evidence", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_the_stored_form_classifies_as_the_whole_evidence_did(evidence: Evidence) -> None:
    stored = _round_trip(evidence)
    assert any(x.body_truncated and x.parsed is not None for x in stored.exchanges)
    assert all(len(x.body or "") <= STORED_BODY_CHARS for x in stored.exchanges)
    assert classify(stored) == classify(evidence)
    assert _round_trip(stored) == stored  # idempotent


def test_the_whole_body_decides_where_the_prefix_would_not() -> None:
    evidence = CASES[0][1]
    observation = classify(evidence)
    assert (observation.status.value, observation.server_name) == ("healthy", "srv")
    cut = Evidence(
        evidence.url,
        evidence.started_at,
        tuple(replace(e, body=(e.body or "")[:STORED_BODY_CHARS]) for e in evidence.exchanges),
    )
    assert classify(cut).status.value == "not_mcp"  # what storing at capture time did


def test_list_pages_are_stored_whole() -> None:
    page = x("handshake:tools/list", 200, tools_page(3, 2000))
    assert len(page.body or "") > STORED_BODY_CHARS
    stored = stored_form(ev(x("initialize", 200, INIT_OK), page))
    assert stored.exchanges[1] is page


# --- answers are matched to the request's id -----------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "taken"),
    [
        (ok(5, {}), True),
        (ok(6, {}), False),
        (ok(True, {}), False),  # `true == 1` in Python, not in JSON-RPC
        (ok("5", {}), False),
        (err(5, -32601), True),
        (err(None, -32700), True),  # the request could not be read
        (err("server-error", -32600), True),  # the SDKs' transport errors
        (err(6, -32601), False),
    ],
)
def test_only_an_answer_to_our_request_id_is_taken(answer: dict[str, Any], taken: bool) -> None:
    exchange = _sent(x("initialize", 200, answer), 5)
    assert (rpc_message(exchange) is not None) is taken


def test_an_initialize_answering_another_id_is_a_protocol_error_not_the_handshake() -> None:
    answer = _sent(x("initialize", 200, ok(7, INIT_OK["result"])), 2)
    observation = classify(ev(x("discover", 400, err(1, -32600, "no")), answer))
    assert (observation.status.value, observation.failure_reason) == ("not_mcp", "protocol_error")
    assert observation.era is None


def test_an_sse_initialize_answering_another_id_is_a_protocol_error() -> None:
    answer = _sent(x("initialize", 200, ok(7, INIT_OK["result"]), sse=True), 2)
    observation = classify(ev(x("discover", 400, err(1, -32600, "no")), answer))
    assert (observation.status.value, observation.failure_reason) == ("not_mcp", "protocol_error")


def test_a_list_page_answering_another_id_is_not_counted() -> None:
    evidence = ev(
        x("discover", 400, err(1, -32600, "no")),
        _sent(x("initialize", 200, INIT_OK), 2),
        _sent(x("handshake:tools/list", 200, tools_page(4, 3)), 3),
    )
    observation = classify(evidence)
    assert (observation.status.value, observation.failure_reason) == ("degraded", "protocol_error")
    assert observation.tool_count is None


# --- protocol versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "valid", "stored"),
    [
        ("2025-06-18", True, "2025-06-18"),
        ("2025-06-18\r\nX-Injected: 1", False, "2025-06-18\\r\\nX-Injected: 1"),
        ("2025 06 18", False, "2025 06 18"),
        ("\x00\ud800é", False, "\\x00\\ud800\\xe9"),
        ("", False, ""),
        ("9" * 65, False, "9" * 65),
    ],
)
def test_protocol_versions_census_cannot_echo(version: str, valid: bool, stored: str) -> None:
    assert valid_version(version) is valid
    assert escaped_version(version) == stored


def test_a_crlf_version_is_a_protocol_error_with_the_era_kept() -> None:
    bad = ok(2, {**INIT_OK["result"], "protocolVersion": "2025-06-18\r\nX: 1"})
    observation = classify(ev(x("discover", 400, err(1, -32600, "no")), x("initialize", 200, bad)))
    assert (observation.status.value, observation.failure_reason) == ("degraded", "protocol_error")
    assert observation.era is not None and observation.era.value == "handshake"
    assert observation.protocol_version == "2025-06-18\\r\\nX: 1"


def test_a_target_deadline_after_confirmation_is_degraded_timeout() -> None:
    evidence = ev(
        x("discover", 400, err(1, -32600, "no")),
        x("initialize", 200, INIT_OK),
        target_deadline_hit=True,
    )
    observation = classify(evidence)
    assert (observation.status.value, observation.failure_reason) == ("degraded", "timeout")


def test_a_listing_cut_after_a_page_naming_a_next_cursor_is_not_counted() -> None:
    evidence = ev(
        x("discover", 400, err(1, -32600, "no")),
        x("initialize", 200, INIT_OK),
        x("handshake:tools/list", 200, tools_page(3, 2, cursor="next")),
    )
    observation = classify(evidence)
    assert (observation.status.value, observation.failure_reason) == ("degraded", "list_failed")
    assert observation.tool_count is None


# --- property: whatever the answer, its stored form classifies the same --------------------------

_KEYS = st.sampled_from(
    [
        "jsonrpc",
        "id",
        "result",
        "error",
        "code",
        "message",
        "data",
        "supported",
        "protocolVersion",
        "serverInfo",
        "name",
        "version",
        "capabilities",
        "tools",
        "supportedVersions",
        "_meta",
        "io.modelcontextprotocol/serverInfo",
        "resource",
        "authorization_servers",
        "issuer",
        "registration_endpoint",
        "code_challenge_methods_supported",
        "client_id_metadata_document_supported",
        "other",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(
        [
            "2.0",
            "2026-07-28",
            "2025-06-18",
            "S256",
            "_meta",
            "server-error",
            "https://as.example.com",
        ]
    )
    | st.text(max_size=8)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=30,
)


_IDS = st.none() | st.booleans() | st.integers(1, 3) | st.sampled_from(["1", "server-error"])
_INFO = st.fixed_dictionaries({}, optional={"name": _JSON, "version": _JSON}) | _JSON
_VERSIONS = st.sampled_from(["2026-07-28", "2025-06-18", "2025-06-18\r\n", "x" * 70, "v1"])
_RESULT = st.fixed_dictionaries(
    {},
    optional={
        "protocolVersion": _VERSIONS | _JSON,
        "serverInfo": _INFO,
        "capabilities": st.dictionaries(st.sampled_from(["tools", "prompts", "x"]), _JSON) | _JSON,
        "supportedVersions": st.lists(_VERSIONS) | _JSON,
        "_meta": st.fixed_dictionaries({"io.modelcontextprotocol/serverInfo": _INFO}) | _JSON,
    },
)
_ERROR = st.fixed_dictionaries(
    {"code": st.sampled_from([-32601, -32602, -32600, -32020]) | _JSON},
    optional={
        "message": st.sampled_from(["", "bad _meta", "no"]) | _JSON,
        "data": st.fixed_dictionaries({"supported": st.lists(_VERSIONS)}) | _JSON,
    },
)
_DOCUMENT = st.fixed_dictionaries(
    {},
    optional={
        "resource": st.sampled_from(["https://mcp.example.com/mcp", "https://x"]) | _JSON,
        "authorization_servers": st.lists(st.just("https://as.example.com")) | _JSON,
        "issuer": st.sampled_from(["https://as.example.com", "https://as.example.com/"]) | _JSON,
        "registration_endpoint": _JSON,
        "code_challenge_methods_supported": st.lists(st.sampled_from(["S256", "plain"])) | _JSON,
        "client_id_metadata_document_supported": _JSON,
    },
)
_VALUES = (
    st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": _IDS, "result": _RESULT | _JSON})
    | st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": _IDS, "error": _ERROR | _JSON})
    | _DOCUMENT
    | st.dictionaries(_KEYS, _JSON, max_size=6)
)


@st.composite
def _answers(draw: st.DrawFn) -> Evidence:
    exchanges = []
    steps = ["discover", "initialize", "auth:prm", "auth:as"]
    for step in draw(st.lists(st.sampled_from(steps), min_size=1, max_size=4)):
        value = draw(_VALUES)
        value["other"] = PAD  # over the stored cap, wherever the rest is
        sse = draw(st.booleans())
        body = f"event: message\ndata: {json.dumps(value)}\n\n" if sse else json.dumps(value)
        status = draw(st.sampled_from([200, 400, 401, 404, 503]))
        exchange = x(step, status, body, {"content-type": "text/event-stream"} if sse else None)
        rpc_id = draw(st.none() | st.integers(1, 3))
        if rpc_id is not None:
            exchange = _sent(exchange, rpc_id)
        exchanges.append(exchange)
    return ev(*exchanges)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_answers())
def test_any_answer_stored_cut_classifies_as_it_did_whole(evidence: Evidence) -> None:
    assert classify(_round_trip(evidence)) == classify(evidence)


@pytest.mark.parametrize(
    "version",
    ["NaN", "Infinity", "1e999999", "9" * 400, r'"\u0000"', r'"\ud800"', r'"a\\x00"'],
    ids=["nan", "inf", "overflow", "bigint", "nul", "surrogate", "backslash"],
)
def test_a_value_storage_rewrites_keeps_the_verdict_of_a_long_answer(version: str) -> None:
    """A long initialize whose protocolVersion is a value the database cannot store as sent (NaN,
    1e999999, an integer past the double range, NUL, a lone surrogate): the sanitiser rewrites
    such values as text, so neither the reduced form nor the escaped version may let the stored
    evidence pass a check the whole body failed."""
    from census.store.observations import evidence_document

    body = json.dumps(_padded_init()).replace('"2025-06-18"', version, 1)
    assert version in body
    whole = ev(x("discover", 400, err(1, -32600, "no")), _sent(x("initialize", 200, body), 2))
    stored = Evidence.from_json(evidence_document(stored_form(whole)))
    assert classify(stored) == classify(whole)
