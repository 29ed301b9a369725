"""The storage sanitiser: one test per rule, then each hostile value stored in a real PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from census.classify import classify
from census.classify.inventory import canonical_json, tool_definition
from census.records import MAX_JSON_DEPTH, Candidate, Evidence, Exchange, Observation
from census.store.discovery import record_source_read
from census.store.observations import Observed, evidence_document, libpq_url, write_observations
from census.store.runs import create_run
from census.store.sanitize import (
    MAX_INDEXED_BYTES,
    MAX_SUBTREE_BYTES,
    MAX_URL_BYTES,
    Sanitizer,
    storable_text,
)
from census.vocabulary import Era, Status


def nested(depth: int, leaf: Any = "leaf") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


# --- one rule each -------------------------------------------------------------------------


def test_nul_becomes_the_four_characters_backslash_x00() -> None:
    assert storable_text("a\x00b") == ("a\\x00b", {"nul"})
    # A body that was not JSON because of a raw NUL stays not JSON (JSON has no \x escape).
    body = '{"name": "a\x00b"}'
    clean, _ = storable_text(body)
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(ValueError):
        json.loads(clean)


def test_a_lone_surrogate_becomes_its_escape_and_parses_back_to_the_same_value() -> None:
    header = b"text/html; charset=\xff".decode("utf-8", "surrogateescape")
    assert storable_text(header) == ("text/html; charset=\\udcff", {"surrogate"})
    body = '{"name": "x\ud800y"}'  # what json.loads of a "\\ud800" escape gives
    clean, flags = storable_text(body)
    assert flags == {"surrogate"}
    clean.encode("utf-8")  # now valid UTF-8
    assert json.loads(clean) == json.loads(body)


def test_clean_text_is_returned_unchanged_with_no_flag() -> None:
    for text in ("plain ascii", "naïve — ünïcode ✓", ""):
        assert storable_text(text) == (text, set())


def test_non_finite_numbers_become_their_names() -> None:
    s = Sanitizer()
    value = json.loads('{"a": NaN, "b": Infinity, "c": -Infinity, "d": 1e999999, "e": 1.5}')
    assert json.loads(s.json_text(value)) == {
        "a": "NaN",
        "b": "Infinity",
        "c": "-Infinity",
        "d": "Infinity",
        "e": 1.5,
    }
    assert s.flags == {"non_finite"}


def test_integers_beyond_the_double_range_become_their_digits() -> None:
    s = Sanitizer()
    big = 7 * 10**400
    assert json.loads(s.json_text({"n": big, "m": -big, "k": 2**63})) == {
        "n": str(big),
        "m": str(-big),
        "k": 2**63,  # within the double range: kept as a number, exactly
    }
    assert s.flags == {"big_int"}


def test_nesting_past_the_limit_becomes_the_subtree_json_text() -> None:
    s = Sanitizer()
    stored = json.loads(s.json_text(nested(100)))
    for _ in range(MAX_JSON_DEPTH):
        stored = stored["a"]
    assert isinstance(stored, str)
    assert stored == json.dumps(nested(100 - MAX_JSON_DEPTH), separators=(",", ":"))
    assert s.flags == {"depth"}
    at_limit = Sanitizer()
    assert json.loads(at_limit.json_text(nested(MAX_JSON_DEPTH))) == nested(MAX_JSON_DEPTH)
    assert at_limit.flags == set()


def test_an_over_deep_subtree_too_long_is_truncated_too() -> None:
    s = Sanitizer()
    stored = json.loads(s.json_text(nested(200, "x" * 5000)))
    for _ in range(MAX_JSON_DEPTH):
        stored = stored["a"]
    assert len(stored.encode()) <= MAX_SUBTREE_BYTES
    assert "…[truncated" in stored
    assert s.flags == {"depth", "truncated"}


def test_indexed_text_is_truncated_with_a_marker_that_keeps_values_distinct() -> None:
    one, flags = storable_text("é" * 3000, MAX_INDEXED_BYTES)
    two, _ = storable_text("é" * 3001, MAX_INDEXED_BYTES)
    assert flags == {"truncated"}
    assert len(one.encode()) <= MAX_INDEXED_BYTES
    assert one.startswith("é" * 100) and "…[truncated 6000 bytes, sha256 " in one
    assert one != two


def test_integer_columns_are_clamped_to_32_bits() -> None:
    s = Sanitizer()
    assert (s.integer(5), s.integer(2**40), s.integer(-(2**40))) == (5, 2**31 - 1, -(2**31))
    assert s.flags == {"truncated"}


def test_the_canonical_form_is_defined_for_every_value_and_never_raises() -> None:
    nan = json.loads("NaN")
    assert canonical_json({"b": nan, "a": [1e999999, -1e999999], "c": 1.0}) == (
        '{"a":["Infinity","-Infinity"],"b":"NaN","c":1.0}'
    )
    assert canonical_json({"s": "x\ud800", "z": "\x00"}) == '{"s":"x\\ud800","z":"\\u0000"}'
    deep = json.loads(canonical_json(nested(100)))
    for _ in range(MAX_JSON_DEPTH):
        deep = deep["a"]
    assert deep == json.dumps(nested(100 - MAX_JSON_DEPTH), separators=(",", ":"))
    deeper: list[Any] = []
    for _ in range(5000):  # deeper than Python's recursion limit
        deeper = [deeper]
    assert canonical_json(deeper).endswith("]" * MAX_JSON_DEPTH)
    # The clean case is unchanged from earlier releases (hashes stay comparable across runs).
    tool = {"name": "t", "description": "é", "inputSchema": {"type": "object", "x": [1, 2.5]}}
    assert canonical_json(tool) == json.dumps(
        tool, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def test_a_million_character_description_gets_an_estimated_token_count() -> None:
    small = tool_definition({"name": "t", "description": "hello world"})
    assert small.tokens > 0 and not small.tokens_estimated
    huge = tool_definition({"name": "t", "description": "x" * 1_000_000})
    assert huge.tokens_estimated
    assert 100_000 < huge.tokens < 1_000_000


# --- each hostile value stored in a real database ------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


HOSTILE_TOOLS = {
    "nan_schema": '{"name": "nan", "inputSchema": {"type": "number", "maximum": NaN}}',
    "infinity": '{"name": "inf", "inputSchema": {"maximum": 1e999999, "minimum": -Infinity}}',
    "nul": '{"name": "n\\u0000ul", "description": "a\\u0000b", "inputSchema": {"d": "\\u0000"}}',
    "surrogate": '{"name": "s\\ud800", "inputSchema": {"x\\udfff": "\\udc80"}}',
    "big_int": '{"name": "big", "inputSchema": {"maximum": ' + "9" * 400 + "}}",
    "deep": json.dumps({"name": "deep", "inputSchema": nested(100)}),
    "long_name": json.dumps({"name": "n" * 5000, "inputSchema": {}}),
}


def _evidence(tools_body: str, url: str) -> Evidence:
    init = {
        "jsonrpc": "2.0",
        "id": 2,
        "result": {
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "srv\x00\ud800", "version": "1"},
        },
    }
    headers = {
        "content-type": "application/json",
        "x-odd": b"\xff\xfe\x00".decode("utf-8", "surrogateescape"),
    }
    exchanges = (
        Exchange("discover", "POST", url, status=404, response_headers=headers, body="nope"),
        Exchange(
            "initialize",
            "POST",
            url,
            status=200,
            response_headers=headers,
            body=json.dumps(init),
            timings_ms={"first_byte": 3.0},
        ),
        Exchange(
            "handshake:tools/list",
            "POST",
            url,
            status=200,
            response_headers=headers,
            body='{"jsonrpc": "2.0", "id": 3, "result": {"tools": [' + tools_body + "]}}",
        ),
    )
    return Evidence(url, datetime(2026, 12, 1, tzinfo=UTC), exchanges)


def _endpoints(engine: sa.Engine, urls: list[str]) -> tuple[int, list[int]]:
    with engine.begin() as conn:
        run_id = create_run(conn, {})
        ids = [
            int(
                conn.execute(
                    sa.text("INSERT INTO endpoints (url, host) VALUES (:u, 'h') RETURNING id"),
                    {"u": u},
                ).scalar_one()
            )
            for u in urls
        ]
    return run_id, ids


@pytest.mark.anyio
async def test_every_hostile_tool_value_is_stored_and_flagged(
    database_url: str, engine: sa.Engine
) -> None:
    urls = [f"https://h{i}.example/mcp" for i in range(len(HOSTILE_TOOLS))]
    run_id, ids = _endpoints(engine, urls)
    batch = []
    for endpoint_id, url, body in zip(ids, urls, HOSTILE_TOOLS.values(), strict=True):
        evidence = _evidence(body, url)
        observation = classify(evidence)
        assert observation.tool_count == 1, body  # the parser read it: it is stored as a tool
        batch.append(Observed(endpoint_id, observation, evidence))
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        assert await write_observations(conn, run_id, batch) == len(batch)
    with engine.connect() as conn:
        tools = dict(
            conn.execute(
                sa.text("SELECT name, input_schema FROM tool_definitions ORDER BY name")
            ).all()
        )
        notes = dict(conn.execute(sa.text("SELECT endpoint_id, data->'notes' FROM evidence")).all())
        names = conn.execute(sa.text("SELECT DISTINCT server_name FROM observations")).all()
    assert len(tools) == len(HOSTILE_TOOLS)
    assert tools["nan"] == {"type": "number", "maximum": "NaN"}
    assert tools["inf"] == {"maximum": "Infinity", "minimum": "-Infinity"}
    assert tools["n\\x00ul"] == {"d": "\\x00"}
    assert tools["s\\ud800"] == {"x\\udfff": "\\udc80"}
    assert tools["big"] == {"maximum": "9" * 400}
    assert names == [("srv\\x00\\ud800",)]
    by_tool = dict(zip(HOSTILE_TOOLS, ids, strict=True))
    expected = {
        "nan_schema": "non_finite",
        "infinity": "non_finite",
        "nul": "nul",
        "surrogate": "surrogate",
        "big_int": "big_int",
        "deep": "depth",
        "long_name": "truncated",
    }
    for tool, flag in expected.items():
        # Every one also has the NUL and surrogate of its serverInfo and its odd header.
        assert {flag, "nul", "surrogate"} <= set(notes[by_tool[tool]]["sanitized"]), tool
    long_name = next(n for n in tools if n.startswith("nnnn"))
    assert len(long_name.encode()) <= MAX_INDEXED_BYTES


@pytest.mark.anyio
async def test_stored_evidence_reclassifies_to_the_stored_verdict(
    database_url: str, engine: sa.Engine
) -> None:
    url = "https://h.example/mcp"
    run_id, ids = _endpoints(engine, [url])
    evidence = _evidence(",".join(HOSTILE_TOOLS.values()), url)
    observation = classify(evidence)
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        await write_observations(conn, run_id, [Observed(ids[0], observation, evidence)])
    with engine.connect() as conn:
        data = conn.execute(sa.text("SELECT data FROM evidence")).scalar_one()
        row = conn.execute(
            sa.text("SELECT status, era, tool_count, tool_tokens, server_name FROM observations")
        ).one()
    again = classify(Evidence.from_json(json.dumps(data)))
    assert (again.status, again.era, again.tool_count) == (Status.HEALTHY, Era.HANDSHAKE, 7)
    assert tuple(row) == ("healthy", "handshake", 7, observation.tool_tokens, "srv\\x00\\ud800")
    assert again.tool_tokens == observation.tool_tokens
    assert again.server_name == observation.server_name == "srv\x00\ud800"


def test_evidence_document_is_storable_json() -> None:
    evidence = _evidence(HOSTILE_TOOLS["nul"], "https://h.example/mcp")
    text = evidence_document(evidence)
    text.encode("utf-8")
    document = json.loads(text)
    assert document["exchanges"][0]["response_headers"]["x-odd"] == "\\udcff\\udcfe\\x00"
    assert document["notes"]["sanitized"] == ["nul", "surrogate"]


@dataclass
class _Read:
    """A discovery read (``SourceReadData``) built by hand."""

    candidates: list[Candidate]
    name: str = "seed:hostile.txt"
    kind: str = "seed_file"
    location: str = "hostile.txt"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    since: datetime | None = None
    tombstones: list[Candidate] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    entries: int = 0
    duplicates: int = 0
    complete: bool = True
    error: str | None = "a registry said \x00 and \udcff"


def test_discovery_stores_hostile_listings_and_refuses_a_3kb_url(engine: sa.Engine) -> None:
    long_url = "https://h.example/" + "p" * 3000
    ok = Candidate(
        "seeds",
        "https://ok.example/mcp",
        raw={"name": "a\x00b", "n": float("nan"), "deep": nested(100), "when": datetime.now(UTC)},
        server_name="srv\ud800",
        host="ok.example",
        registrable_domain="ok.example",
    )
    too_long = Candidate("seeds", long_url, host="h.example", registrable_domain="h.example")
    with engine.begin() as conn:
        stored = record_source_read(conn, _Read([ok, too_long], entries=2))
    assert (stored.new_endpoints, stored.remote_urls) == (1, 1)
    assert len(long_url.encode()) > MAX_URL_BYTES
    with engine.connect() as conn:
        urls = conn.execute(sa.text("SELECT url FROM endpoints")).scalars().all()
        raw, name = conn.execute(sa.text("SELECT raw, server_name FROM listings")).one()
        rejected, error = conn.execute(sa.text("SELECT rejected, error FROM source_reads")).one()
    assert urls == ["https://ok.example/mcp"]
    assert name == "srv\\ud800"
    assert raw["name"] == "a\\x00b" and raw["n"] == "NaN"
    assert raw["_census_sanitized"] == ["nul", "non_finite", "depth"]
    assert rejected == {"url_too_long": 1}
    assert error == "a registry said \\x00 and \\udcff"


def test_an_observation_with_no_hostile_value_is_not_flagged() -> None:
    observation = Observation(
        url="https://h.example/mcp",
        host="h.example",
        registrable_domain=None,
        probed_at=datetime.now(UTC),
        status=Status.HEALTHY,
        server_name="ünïcode ✓",
    )
    s = Sanitizer()
    assert s.observation(observation) is observation
    assert s.flags == set()
