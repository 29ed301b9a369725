"""Hypothesis strategies for whatever a server can send: JSON-RPC answers with hostile values
(NaN, Infinity, integers beyond the double range, NUL, lone surrogates, deep nesting), response
headers as aiohttp hands them over (bytes decoded with ``surrogateescape``), SSE streams, and
whole probes' evidence built from them in the order the prober records its steps.

Bodies are rendered as the client decodes them: JSON text (NaN written as Python writes it),
encoded to bytes and decoded as UTF-8 with invalid sequences replaced, sometimes with raw NUL
bytes spliced in, sometimes wrapped in an SSE stream with hostile fields.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from census.records import Evidence, Exchange

#: Reproducible in CI (derandomized, no example database written into the tree); set
#: CENSUS_HYPOTHESIS_EXPLORE=1 to search with fresh random examples locally.
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=not os.environ.get("CENSUS_HYPOTHESIS_EXPLORE"),
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

URL = "https://mcp.hostile.example/mcp"
VERSIONS = ("2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")

#: Every code point, lone surrogates and NUL included.
any_char = st.characters(codec=None, exclude_categories=())
special_text = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfffy",
        "\udc80\udcff",  # undecodable bytes as surrogateescape gives them
        "NaN",
        "\u202e\u200b",
        "\x1b]52;c;SGVsbG8=\x07",
        "2025-06-18\r\n",
        "<|endoftext|>",
    ]
)


def hostile_text(max_size: int = 16) -> st.SearchStrategy[str]:
    return st.text(any_char, max_size=max_size) | special_text


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.integers(min_value=-(10**400), max_value=-(10**300))
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -0.0])
    | hostile_text()
)
shallow_json = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text(8), children, max_size=4)
    ),
    max_leaves=12,
)


def _nest(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


deep_json = st.builds(_nest, shallow_json, st.integers(50, 140), st.booleans())
any_json = shallow_json | deep_json

rpc_ids = st.sampled_from([1, 2, 3, 4, 5, 6, None, "1", "server-error"]) | json_scalars

server_info = st.fixed_dictionaries({"name": hostile_text(), "version": hostile_text()}) | any_json

#: A schema with the numbers PostgreSQL's jsonb refuses or JSON readers cannot hold.
hostile_schema = st.fixed_dictionaries(
    {
        "type": st.just("object"),
        "properties": st.dictionaries(
            hostile_text(8),
            st.fixed_dictionaries(
                {
                    "maximum": st.sampled_from(
                        [float("nan"), float("inf"), -float("inf"), 10**400, 1, 2.5]
                    )
                }
            ),
            max_size=3,
        ),
    }
)
tool = st.fixed_dictionaries(
    {"name": hostile_text(24)},
    optional={
        "description": hostile_text(200) | st.text(any_char, min_size=1000, max_size=3000),
        "inputSchema": hostile_schema | deep_json | shallow_json,
        "annotations": any_json,
        "title": hostile_text(),
    },
)

initialize_result = st.fixed_dictionaries(
    {
        "protocolVersion": st.sampled_from(VERSIONS) | hostile_text(),
        "capabilities": st.just({"tools": {}, "resources": {}, "prompts": {}}) | any_json,
        "serverInfo": server_info,
    },
    optional={"instructions": hostile_text(100), "_meta": any_json},
)
discover_result = st.fixed_dictionaries(
    {
        "supportedVersions": st.just(["2026-07-28"]) | st.lists(hostile_text(), max_size=3),
        "capabilities": st.just({"tools": {}}) | any_json,
        "_meta": st.fixed_dictionaries({"io.modelcontextprotocol/serverInfo": server_info})
        | any_json,
    },
    optional={"resultType": hostile_text(), "ttlMs": json_scalars},
)


def list_result(key: str) -> st.SearchStrategy[dict[str, Any]]:
    items = st.lists(tool | any_json, max_size=5)
    return st.fixed_dictionaries({key: items}, optional={"nextCursor": json_scalars})


def rpc(result: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A JSON-RPC answer: mostly a result for the request, sometimes an error or any JSON."""
    ok = st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "id": rpc_ids, "result": result})
    error = st.fixed_dictionaries(
        {
            "jsonrpc": st.just("2.0"),
            "id": rpc_ids,
            "error": st.fixed_dictionaries(
                {
                    "code": st.sampled_from([-32600, -32601, -32602, -32020, -32001, 0])
                    | json_scalars,
                    "message": hostile_text(),
                },
                optional={"data": any_json},
            ),
        }
    )
    return st.one_of(ok, ok, ok, error, any_json)


def _sse_line_end() -> st.SearchStrategy[str]:
    return st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_stream(draw: st.DrawFn, data: str) -> str:
    """``data`` as one SSE event among hostile fields (ids, retries, comments, odd events)."""
    end = draw(_sse_line_end())
    fields = draw(
        st.lists(
            st.sampled_from(["id: 1", "event: message", ": keep-alive", "retry: 100"])
            | st.builds("retry: {}".format, st.sampled_from(["²", "-1", "9" * 5000, "١٢"]))
            | st.builds("id: {}".format, hostile_text())
            | st.builds("event: {}".format, hostile_text()),
            max_size=3,
        )
    )
    lines = [*fields, "event: message", f"data: {data}"]
    prefix = draw(st.sampled_from(["", f"event: message{end}data: {{}}{end}{end}", f":{end}"]))
    return prefix + end.join(lines) + end + end


@st.composite
def body(draw: st.DrawFn, message: st.SearchStrategy[Any]) -> str:
    """A message as the client hands it over: decoded text of JSON, SSE, or damaged bytes."""
    value = draw(message)
    try:
        text = json.dumps(value, ensure_ascii=draw(st.booleans()))  # NaN as Python writes it
    except (ValueError, RecursionError):
        text = "{}"
    if draw(st.booleans()):
        text = draw(sse_stream(text))
    damage = draw(st.sampled_from(["none", "none", "nul", "cut", "garbage"]))
    if damage == "nul":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "\x00" + text[at:]
    elif damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "garbage":
        text = draw(st.binary(max_size=64)).decode("latin-1") + text
    # On the wire: bytes, decoded as UTF-8 with invalid sequences replaced (the client's way).
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


#: Header values as aiohttp gives them: any bytes but CR/LF, decoded with surrogateescape.
raw_header_value = st.binary(max_size=48).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").decode("utf-8", "surrogateescape")
)
header_values: dict[str, st.SearchStrategy[str]] = {
    "content-type": st.sampled_from(
        ["application/json", "text/event-stream", "application/json; charset=utf-8"]
    )
    | raw_header_value,
    "retry-after": st.sampled_from(["1", "120", "²", "9" * 5000, "Wed, 21 Oct 2015 07:28:00 GMT"])
    | raw_header_value,
    "www-authenticate": st.sampled_from(
        [
            'Bearer realm="mcp", resource_metadata="https://mcp.hostile.example/.well-known/'
            'oauth-protected-resource"',
            'Bearer error="invalid_token"',
            'Basic realm="x\udcff"',
            'ApiKey header="X-API-Key"',
        ]
    )
    | raw_header_value,
    "mcp-session-id": hostile_text() | raw_header_value,
    "ratelimit": raw_header_value | st.just("limit=10, remaining=0, reset=5"),
    "x-ratelimit-remaining": raw_header_value | st.just("0"),
    "access-control-allow-origin": st.sampled_from(["*", "https://evil.example"])
    | raw_header_value,
    "access-control-allow-credentials": st.just("true") | raw_header_value,
    "x-anything": raw_header_value,
}


@st.composite
def headers(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(sorted(header_values)), unique=True, max_size=5))
    out = {name: draw(header_values[name]) for name in names}
    if "content-type" not in out and draw(st.booleans()):
        out["content-type"] = "application/json"
    return out


STATUSES = [200, 200, 200, 200, 202, 400, 401, 403, 404, 405, 429, 500, 503]
ERRORS = ["connect_refused", "timeout", "connection_reset", "tls_error", "body_too_large"]


@st.composite
def exchange(draw: st.DrawFn, step: str, message: st.SearchStrategy[Any]) -> Exchange:
    if draw(st.integers(0, 9)) == 0:  # no (complete) answer
        return Exchange(step, "POST", URL, error=draw(st.sampled_from(ERRORS)))
    return Exchange(
        step=step,
        method="POST",
        url=URL,
        request_headers={"accept": "application/json, text/event-stream"},
        request_body={"jsonrpc": "2.0", "id": 1, "method": step.rpartition(":")[2]},
        status=draw(st.sampled_from(STATUSES)),
        response_headers=draw(headers()),
        body=draw(body(message)),
        body_truncated=draw(st.booleans()) and draw(st.booleans()),
        timings_ms={"first_byte": draw(st.floats(0, 10_000)), "total": 1.0},
        retried=tuple(
            draw(
                st.lists(
                    st.fixed_dictionaries({"status": st.just(429), "headers": headers()}),
                    max_size=1,
                )
            )
        ),
    )


#: (step, what its answer carries): the prober's steps in its order.
STEPS: list[tuple[str, st.SearchStrategy[Any]]] = [
    ("discover", rpc(discover_result)),
    ("initialize", rpc(initialize_result)),
    ("modern:tools/list", rpc(list_result("tools"))),
    ("handshake:tools/list", rpc(list_result("tools"))),
    ("handshake:resources/list", rpc(list_result("resources"))),
    ("handshake:prompts/list", rpc(list_result("prompts"))),
    ("legacy_sse:initialize", rpc(initialize_result)),
    ("legacy_sse:tools/list", rpc(list_result("tools"))),
    ("auth:prm", any_json),
    ("auth:as", any_json),
    ("cors:preflight", any_json),
    ("cors:origin", rpc(initialize_result)),
    ("ratelimit", rpc(initialize_result)),
]


@st.composite
def tidy_exchange(draw: st.DrawFn, step: str, result: st.SearchStrategy[Any]) -> Exchange:
    """A well-formed 200 answer to ``step`` whose result holds hostile values."""
    rpc_id = draw(st.integers(1, 6))
    value = draw(result)
    if isinstance(value, dict) and draw(st.integers(0, 4)) == 0:
        # Longer than the stored body cap: classified whole, stored cut (with ``parsed``).
        value = {**value, "zz_padding": "x" * 17_000}
    text = json.dumps(
        {"jsonrpc": "2.0", "id": rpc_id, "result": value}, ensure_ascii=draw(st.booleans())
    )
    if draw(st.booleans()):
        text = text.replace("Infinity", "1e999999")  # Python's parser reads it as Infinity
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    if quotes and draw(st.integers(0, 3)) == 0:
        # A raw NUL byte after a quote: inside a string (or just outside it) the JSON is invalid,
        # and stored evidence must stay invalid for re-classification to agree.
        at = draw(st.sampled_from(quotes)) + 1
        text = text[:at] + "\x00" + text[at:]
    sse = draw(st.booleans())
    if sse:
        text = f"event: message\ndata: {text}\n\n"
    extra = draw(headers())
    extra.pop("content-type", None)
    return Exchange(
        step=step,
        method="POST",
        url=URL,
        request_body={"jsonrpc": "2.0", "id": rpc_id, "method": step.rpartition(":")[2]},
        status=200,
        response_headers={
            "content-type": "text/event-stream" if sse else "application/json",
            **extra,
        },
        body=text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        timings_ms={"first_byte": 3.0},
    )


def _refusal(step: str, status: int, code: int) -> Exchange:
    return Exchange(
        step,
        "POST",
        URL,
        status=status,
        response_headers={"content-type": "application/json"},
        body=json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": "no"}}),
    )


@st.composite
def tidy_probe(draw: st.DrawFn) -> list[Exchange]:
    """A server that answers in one era, every listing with hostile items."""
    era = draw(st.sampled_from(["modern", "handshake", "legacy_sse"]))
    tidy_discover = st.fixed_dictionaries(
        {
            "supportedVersions": st.just(["2026-07-28"]),
            "capabilities": st.just({"tools": {}, "resources": {}, "prompts": {}}),
            "_meta": st.fixed_dictionaries({"io.modelcontextprotocol/serverInfo": server_info}),
        }
    )
    out: list[Exchange] = []
    if era == "modern":
        out.append(draw(tidy_exchange("discover", tidy_discover)))
        out.append(_refusal("initialize", 404, -32601))
    elif era == "handshake":
        out.append(_refusal("discover", 400, -32600))
        out.append(draw(tidy_exchange("initialize", initialize_result)))
    else:
        out.append(_refusal("discover", 405, -32600))
        out.append(_refusal("initialize", 405, -32600))
        out.append(draw(tidy_exchange("legacy_sse:initialize", initialize_result)))
    more = draw(st.lists(st.sampled_from(["resources/list", "prompts/list"]), unique=True))
    methods = ["tools/list", *more]
    for method in methods:
        tools = st.fixed_dictionaries(
            {method.split("/")[0]: st.lists(tool, min_size=1, max_size=4)}
        )
        out.append(draw(tidy_exchange(f"{era}:{method}", tools)))
    return out


@st.composite
def evidences(draw: st.DrawFn) -> Evidence:
    """One probe's evidence: a tidy server with hostile values, or any damaged mix of steps."""
    if draw(st.booleans()):
        exchanges = tuple(draw(tidy_probe()))
    else:
        chosen = [STEPS[0], STEPS[1]] if draw(st.integers(0, 4)) else []
        chosen += draw(st.lists(st.sampled_from(STEPS), max_size=6))
        exchanges = tuple(draw(exchange(step, message)) for step, message in chosen)
    notes = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "legacy_sse_endpoint": hostile_text(40),
                "target_deadline_hit": st.just(True),
                "redirected_to": hostile_text(40),
            },
        )
    )
    tls = draw(
        st.just({})
        | st.fixed_dictionaries(
            {
                "verified": st.booleans(),
                "issuer": hostile_text(),
                "days_left": st.integers(-(10**6), 10**7),
            }
        )
    )
    return Evidence(URL, datetime(2026, 12, 1, tzinfo=UTC), exchanges, tls, notes)
