import hashlib

import pytest

from census.classify import classify, observation_row
from census.classify.exposure import classify_cors, classify_origin, classify_rate_limit
from census.classify.inventory import TOKENIZER, canonical_json, tool_definition
from census.classify.wire import is_modern_error
from census.records import Evidence
from census.vocabulary import COLUMNS
from tests.classify.factories import DISCOVER_OK, METHOD_NOT_FOUND_404, err, ev, tools_page, x

ORIGIN = "https://census-probe-abcd.invalid"


def preflight(status: int, headers: dict[str, str]) -> Evidence:
    return ev(
        x(
            "cors:preflight",
            status,
            "",
            headers,
            method="OPTIONS",
            request_headers={"Origin": ORIGIN},
        )
    )


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (preflight(204, {}), "none"),
        (preflight(403, {"access-control-allow-origin": ORIGIN}), "none"),
        (preflight(204, {"access-control-allow-origin": "https://app.example.com"}), "restricted"),
        (preflight(204, {"access-control-allow-origin": "*"}), "wildcard"),
        (preflight(204, {"access-control-allow-origin": ORIGIN}), "reflect"),
        (
            preflight(
                204,
                {"access-control-allow-origin": ORIGIN, "access-control-allow-credentials": "true"},
            ),
            "reflect_credentials",
        ),
        (ev(x("cors:preflight", None, error="timeout", method="OPTIONS")), None),
        (ev(), None),
    ],
)
def test_cors_class_from_the_preflight(evidence: Evidence, expected: str | None) -> None:
    got = classify_cors(evidence)
    assert (got.value if got else None) == expected


@pytest.mark.parametrize(
    ("status", "expected"), [(403, True), (200, False), (202, False), (400, None), (None, None)]
)
def test_origin_validated_only_on_a_clear_answer(status: int | None, expected: bool | None) -> None:
    evidence = ev(x("cors:origin", status, "", error=None if status else "timeout"))
    assert classify_origin(evidence) is expected


@pytest.mark.parametrize(
    ("exchanges", "expected"),
    [
        ([x("discover", 200, "{}", {"ratelimit": '"default";r=50;t=30'})], "advertised"),
        ([x("discover", 200, "{}", {"ratelimit-policy": '"burst";q=100;w=60'})], "advertised"),
        ([x("discover", 200, "{}", {"x-ratelimit-remaining": "9"})], "advertised"),
        ([x("discover", 503, "{}", {"retry-after": "1"})], "advertised"),
        ([x("ratelimit", 429, "{}")], "enforced"),
        ([x("ratelimit", 200, "{}", retried=({"status": 429, "headers": {}},))], "enforced"),
        ([x("discover", 200, "{}")], "none_observed"),
        ([x("discover", None, error="connect_refused")], None),
    ],
)
def test_rate_limit_class_from_every_answer(exchanges: list, expected: str | None) -> None:
    got = classify_rate_limit(ev(*exchanges))
    assert (got.value if got else None) == expected


@pytest.mark.parametrize(
    ("status", "body", "modern"),
    [
        (400, err(1, -32022, "Unsupported protocol version", {"supported": ["2026-07-28"]}), True),
        (400, err(1, -32020, "mcp-method header does not match"), True),
        (400, err(1, -32021, "missing capability"), True),
        (400, err(1, -32004, "beta-era unsupported version"), True),
        (400, err(1, -32602, "params._meta must be an object"), True),
        (404, err(1, -32601, "Method not found"), True),
        (200, err(1, -32601, "Method not found"), False),  # legacy: -32601 inside 200
        (400, err("server-error", -32600, "Bad Request: Missing session ID"), False),
        (404, "Not Found", False),  # status alone is never a verdict
        (405, "Method Not Allowed", False),
    ],
)
def test_modern_errors_are_recognised_by_body_never_by_status(
    status: int, body: object, modern: bool
) -> None:
    assert is_modern_error(x("discover", status, body)) is modern


def test_tool_definitions_are_canonical_hashed_and_counted() -> None:
    tool = {"name": "add", "inputSchema": {"type": "object", "b": 1, "a": 2}, "description": "é"}
    definition = tool_definition(tool)
    assert definition.canonical_json == (
        '{"description":"é","inputSchema":{"a":2,"b":1,"type":"object"},"name":"add"}'
    )
    assert definition.sha256 == hashlib.sha256(definition.canonical_json.encode()).hexdigest()
    assert 10 < definition.tokens < 40
    assert canonical_json({"b": [1, {"d": 1, "c": 2}]}) == '{"b":[1,{"c":2,"d":1}]}'
    assert TOKENIZER == "o200k_base"


def test_special_token_text_in_a_description_is_counted_as_text() -> None:
    definition = tool_definition({"name": "x", "description": "<|endoftext|>"})
    assert definition.tokens > 3


def http_evidence(url: str, **notes: object) -> Evidence:
    return ev(
        x("discover", 200, DISCOVER_OK, url=url),
        x("initialize", 404, METHOD_NOT_FOUND_404, url=url),
        x("modern:tools/list", 200, tools_page(3, 31), url=url),
        x("cors:preflight", 204, "", {"access-control-allow-origin": "*"}, method="OPTIONS"),
        x("cors:origin", 200, DISCOVER_OK),
        url=url,
        **notes,
    )


def test_plain_http_many_tools_open_cors_and_no_origin_check_are_findings() -> None:
    observation = classify(http_evidence("http://mcp.example.com/mcp?api_key=REDACTED"))
    assert observation.tls is not None and observation.tls.value == "none"
    assert observation.findings == (
        "cors_open",
        "many_tools",
        "origin_not_validated",
        "plain_http",
        "secret_in_url",
    )


def test_tls_valid_with_days_left_from_the_connection() -> None:
    observation = classify(http_evidence("https://mcp.example.com/mcp"))
    assert (observation.tls.value if observation.tls else None, observation.tls_days_left) == (
        "valid",
        42,
    )


def test_an_invalid_certificate_is_tls_invalid_with_a_finding() -> None:
    evidence = Evidence(
        "https://bad.example.com/mcp",
        ev().started_at,
        (x("discover", None, error="tls_error"), x("initialize", None, error="tls_error")),
        {"verified": False, "issuer": "Self", "days_left": -3},
    )
    observation = classify(evidence)
    assert (observation.status.value, observation.failure_reason, observation.tls) == (
        "unreachable",
        "tls_error",
        "invalid",
    )
    assert observation.tls_days_left == -3 and observation.findings == ("tls_invalid",)


def test_evidence_survives_a_json_round_trip_and_classifies_identically() -> None:
    evidence = http_evidence("https://mcp.example.com/mcp", list_stopped={})
    again = Evidence.from_json(evidence.to_json())
    assert again == evidence
    assert classify(again) == classify(evidence)


def test_a_row_has_exactly_the_vocabulary_columns() -> None:
    row = observation_row(classify(http_evidence("https://mcp.example.com/mcp")), run_id=7)
    assert tuple(row) == COLUMNS
    assert row["run_id"] == 7 and row["status"] == "healthy" and row["tool_count"] == 31
    assert row["findings"] == "cors_open;many_tools;origin_not_validated"
    assert classify(http_evidence("https://mcp.example.com/mcp")).methodology_version
