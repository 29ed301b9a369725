import pytest

from census.classify import classify
from census.records import Evidence
from tests.classify.factories import (
    DISCOVER_OK,
    INIT_OK,
    METHOD_NOT_FOUND_404,
    SDK1_MISSING_SESSION,
    err,
    ev,
    tools_page,
    x,
)

SESSION = {"mcp-session-id": "abc"}

CASES: list[tuple[str, Evidence, dict[str, object]]] = [
    (
        "modern only: discover answers, initialize is a modern 404",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 404, METHOD_NOT_FOUND_404),
            x("modern:tools/list", 200, tools_page(3, 2)),
        ),
        dict(
            status="healthy",
            era="modern",
            session=None,
            protocol_version="2026-07-28",
            server_name="srv",
            tool_count=2,
            transport="streamable_http",
        ),
    ),
    (
        "handshake only, stateful, SSE answer with priming event",
        ev(
            x("discover", 400, SDK1_MISSING_SESSION, SESSION),
            x("initialize", 200, INIT_OK, SESSION, sse=True),
            x("handshake:tools/list", 200, tools_page(3, 4), sse=True),
        ),
        dict(
            status="healthy",
            era="handshake",
            session="stateful",
            protocol_version="2025-06-18",
            tool_count=4,
        ),
    ),
    (
        "dual era, stateless",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 200, INIT_OK),
            x("modern:tools/list", 200, tools_page(3, 1)),
        ),
        dict(status="healthy", era="dual", session="stateless", protocol_version="2026-07-28"),
    ),
    (
        "a 4xx carrying a session id is not a session (only a 2xx initialize is)",
        ev(x("discover", 200, DISCOVER_OK), x("initialize", 404, METHOD_NOT_FOUND_404, SESSION)),
        dict(era="modern", session=None),
    ),
    (
        "legacy HTTP+SSE",
        ev(
            x("discover", 405, "Method Not Allowed"),
            x("initialize", 405, "Method Not Allowed"),
            x(
                "legacy_sse:initialize",
                200,
                {**INIT_OK, "result": {**INIT_OK["result"], "protocolVersion": "2024-11-05"}},
            ),
            x("legacy_sse:tools/list", 200, tools_page(3, 3)),
        ),
        dict(
            status="healthy",
            era="legacy_sse",
            transport="sse",
            session=None,
            protocol_version="2024-11-05",
            tool_count=3,
        ),
    ),
    (
        "a list answered with a JSON-RPC error degrades the endpoint",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 404, METHOD_NOT_FOUND_404),
            x("modern:tools/list", 200, err(3, -32603, "boom")),
        ),
        dict(status="degraded", failure_reason="list_failed", tool_count=None),
    ),
    (
        "a list cut at the size cap is body_too_large",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 404, METHOD_NOT_FOUND_404),
            x(
                "modern:tools/list",
                200,
                '{"jsonrpc":"2.0","id":3,"result":{"tools":[',
                error="body_too_large",
            ),
        ),
        dict(status="degraded", failure_reason="body_too_large"),
    ),
    (
        "an unreadable list body is a protocol error",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 404, METHOD_NOT_FOUND_404),
            x("modern:tools/list", 200, "[" * 10000),
        ),
        dict(status="degraded", failure_reason="protocol_error"),
    ),
    (
        "a cursor loop is a failed listing",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 404, METHOD_NOT_FOUND_404),
            x("modern:tools/list", 200, tools_page(3, 10, "A")),
            x("modern:tools/list", 200, tools_page(4, 10, "B")),
            x("modern:tools/list", 200, tools_page(5, 10, "A")),
            list_stopped={"tools/list": "cursor_loop"},
        ),
        dict(status="degraded", failure_reason="list_failed", tool_count=None),
    ),
    (
        "pages are summed",
        ev(
            x("discover", 200, DISCOVER_OK),
            x("initialize", 404, METHOD_NOT_FOUND_404),
            x("modern:tools/list", 200, tools_page(3, 10, "A")),
            x("modern:tools/list", 200, tools_page(4, 7)),
        ),
        dict(status="healthy", tool_count=17),
    ),
    (
        "401 on the MCP request is an authorization wall",
        ev(x("discover", 401, "{}"), x("initialize", 401, "{}")),
        dict(status="auth_required", failure_reason=None, era=None),
    ),
    (
        "no answer at all",
        ev(
            x("discover", None, error="connect_refused"),
            x("initialize", None, error="connect_refused"),
        ),
        dict(status="unreachable", failure_reason="connect_refused", tls=None),
    ),
    (
        "a malformed HTTP answer is not MCP, not unreachable",
        ev(
            x("discover", None, error="protocol_error"),
            x("initialize", None, error="protocol_error"),
        ),
        dict(status="not_mcp", failure_reason="protocol_error"),
    ),
    (
        "only 5xx",
        ev(x("discover", 503, "<h1>down</h1>"), x("initialize", 502, "<h1>down</h1>")),
        dict(status="http_error", failure_reason="http_5xx"),
    ),
    (
        "only 429",
        ev(x("discover", 429, "{}"), x("initialize", 429, "{}")),
        dict(status="http_error", failure_reason="http_429", rate_limit_class="enforced"),
    ),
    (
        "404 page",
        ev(x("discover", 404, "<pre>Cannot POST</pre>"), x("initialize", 404, "Cannot POST")),
        dict(status="not_mcp", failure_reason="http_404"),
    ),
    (
        "HTML login page",
        ev(x("discover", 200, "<html>login</html>"), x("initialize", 200, "<html></html>")),
        dict(status="not_mcp", failure_reason="not_json"),
    ),
    (
        "plain JSON API",
        ev(x("discover", 200, {"status": "ok"}), x("initialize", 200, {"status": "ok"})),
        dict(status="not_mcp", failure_reason="not_jsonrpc"),
    ),
    (
        "421 from a DNS-rebinding guard is not an MCP signal",
        ev(x("discover", 421, "Invalid Host header"), x("initialize", 421, "Invalid Host")),
        dict(status="not_mcp", failure_reason="http_4xx"),
    ),
    (
        "redirect to a private address",
        ev(
            x("discover", 307, "", {"location": "http://10.2.3.4/mcp"}),
            x("initialize", 307, "", {"location": "http://10.2.3.4/mcp"}),
        ),
        dict(status="not_mcp", failure_reason="private_address"),
    ),
    (
        "redirect to another origin",
        ev(
            x("discover", 302, "", {"location": "https://sso.example.net/"}),
            x("initialize", 302, "", {"location": "https://sso.example.net/"}),
        ),
        dict(status="not_mcp", failure_reason="redirect_refused"),
    ),
    (
        "a stalled answer",
        ev(
            x("discover", 200, ": keepalive", error="timeout"),
            x("initialize", 200, ": keepalive", error="timeout"),
        ),
        dict(status="not_mcp", failure_reason="timeout"),
    ),
    (
        "skipped by policy",
        ev(skipped="opted_out"),
        dict(status="skipped", failure_reason="opted_out", tls=None, rate_limit_class=None),
    ),
]


@pytest.mark.parametrize(
    ("evidence", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_status_era_and_inventory_follow_the_vocabulary(
    evidence: Evidence, expected: dict[str, object]
) -> None:
    observation = classify(evidence)
    got = {k: getattr(observation, k) for k in expected}
    got = {k: (v.value if hasattr(v, "value") else v) for k, v in got.items()}
    assert got == expected
