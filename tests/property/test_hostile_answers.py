"""Whatever a server answers is classified, stored in a real PostgreSQL, and re-classifies to the
stored verdict: parse → classify → sanitise → store, driven by Hypothesis (issue 12, 8b)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from census.classify import classify
from census.classify.evidence import stored_form
from census.net.sse import SSEParser
from census.records import Evidence, Exchange
from census.store.observations import (
    OBSERVATION_COLUMNS,
    Observed,
    _row,
    libpq_url,
    storable,
    write_observations,
)
from census.store.runs import create_run
from tests.property.strategies import SETTINGS, any_char, evidences, headers

COLUMNS = ", ".join(("run_id", "endpoint_id", *OBSERVATION_COLUMNS))


@dataclass
class Store:
    """One database and one run for every example of a test; fresh endpoints per example."""

    engine: sa.Engine
    url: str
    run_id: int
    counter: Iterator[int]

    def endpoints(self, n: int) -> list[int]:
        with self.engine.begin() as conn:
            return [
                int(
                    conn.execute(
                        sa.text("INSERT INTO endpoints (url, host) VALUES (:u, :h) RETURNING id"),
                        {"u": f"https://e{k}.example/mcp", "h": f"e{k}.example"},
                    ).scalar_one()
                )
                for k in itertools.islice(self.counter, n)
            ]

    def write(self, items: list[Observed]) -> int:
        async def go() -> int:
            async with await psycopg.AsyncConnection.connect(libpq_url(self.url)) as conn:
                return await write_observations(conn, self.run_id, items)

        return anyio.run(go)

    def read(self, endpoint_id: int) -> tuple[tuple[Any, ...], Any, list[str]]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(f"SELECT {COLUMNS} FROM observations WHERE endpoint_id = :e"),
                {"e": endpoint_id},
            ).one()
            data = conn.execute(
                sa.text("SELECT data FROM evidence WHERE endpoint_id = :e"), {"e": endpoint_id}
            ).scalar_one()
            tools = list(
                conn.execute(
                    sa.text(
                        "SELECT t.sha256 FROM observation_tools o JOIN tool_definitions t"
                        " ON t.sha256 = o.tool_sha256 WHERE o.endpoint_id = :e ORDER BY position"
                    ),
                    {"e": endpoint_id},
                ).scalars()
            )
        return tuple(row), data, tools


@pytest.fixture
def store(database_url: str, engine: sa.Engine) -> Store:
    with engine.begin() as conn:
        run_id = create_run(conn, {})
    return Store(engine, database_url, run_id, itertools.count())


BYSTANDER = Evidence(
    "https://bystander.example/mcp",
    datetime(2026, 12, 1, tzinfo=UTC),
    (
        Exchange(
            "initialize",
            "POST",
            "https://bystander.example/mcp",
            status=200,
            response_headers={"content-type": "application/json"},
            body='{"jsonrpc":"2.0","id":2,"result":{"protocolVersion":"2025-06-18",'
            '"capabilities":{},"serverInfo":{"name":"calm","version":"1"}}}',
        ),
    ),
)


@SETTINGS
@given(evidence=evidences())
def test_any_answer_is_stored_and_reclassifies_to_the_stored_verdict(
    store: Store, evidence: Evidence
) -> None:
    observation = classify(evidence)  # no exception escapes the classifiers
    hostile, bystander = store.endpoints(2)
    batch = [
        Observed(hostile, observation, stored_form(evidence)),  # as the prober hands it over
        Observed(bystander, classify(BYSTANDER), BYSTANDER),
    ]
    assert store.write(batch) == 2  # the hostile row and its healthy bystander, one batch

    row, data, tools = store.read(hostile)
    again = classify(Evidence.from_json(json.dumps(data)))
    # The stored verdict is what the sanitiser makes of re-classifying the stored evidence.
    assert row == _row(store.run_id, storable(Observed(hostile, again)))
    assert tools == [tool.sha256 for tool in again.tools]
    assert store.read(bystander)[0][OBSERVATION_COLUMNS.index("status") + 2] == "healthy"


@settings(SETTINGS, max_examples=100)
@given(evidence=evidences())
def test_classifying_is_pure_and_total(evidence: Evidence) -> None:
    assert classify(evidence) == classify(evidence)


@SETTINGS
@given(
    text=st.text(any_char, max_size=300)
    | st.lists(
        st.sampled_from(["data: {}", "event: endpoint", "id: \x00", "retry: ²", ":", ""]),
        max_size=12,
    ).map("\r\n".join),
    cuts=st.lists(st.integers(0, 300), max_size=6),
)
def test_sse_streams_parse_the_same_however_they_are_chunked(text: str, cuts: list[int]) -> None:
    whole = SSEParser().feed(text + "\n\n")
    parser = SSEParser()
    events = []
    start = 0
    for cut in sorted(c for c in cuts if c <= len(text)):
        events += parser.feed(text[start:cut])
        start = cut
    events += parser.feed(text[start:] + "\n\n")
    # A CR ending one chunk may be the first half of a CRLF: the only boundary a chunked
    # parser must treat with care; the events are the same either way.
    assert [(e.event, e.data) for e in events] == [(e.event, e.data) for e in whole]


@settings(SETTINGS, max_examples=60)
@given(headers=headers())
def test_any_response_headers_are_stored(store: Store, headers: dict[str, str]) -> None:
    exchange = Exchange(
        "initialize", "POST", "https://h.example/mcp", status=401, response_headers=headers
    )
    evidence = Evidence("https://h.example/mcp", datetime(2026, 12, 1, tzinfo=UTC), (exchange,))
    (endpoint,) = store.endpoints(1)
    assert store.write([Observed(endpoint, classify(evidence), stored_form(evidence))]) == 1
    row, data, _ = store.read(endpoint)
    again = classify(Evidence.from_json(json.dumps(data)))
    assert row == _row(store.run_id, storable(Observed(endpoint, again)))
