"""The COPY writer: exactly once per (run, endpoint), hostile text stored, evidence capped."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa

from census.records import Evidence, Exchange, Observation, ToolDefinition
from census.store.models import EVIDENCE_MAX_BYTES
from census.store.observations import Observed, evidence_document, libpq_url, write_observations
from census.store.runs import create_run
from census.vocabulary import Era, FailureReason, Status

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _tool(name: str, description: str) -> ToolDefinition:
    canonical = json.dumps({"name": name, "description": description}, sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return ToolDefinition(name, description, {"type": "object"}, canonical, digest, 7)


def _observation(url: str, **extra: object) -> Observation:
    values: dict[str, object] = {"status": Status.HEALTHY, "era": Era.MODERN, **extra}
    return Observation(
        url=url,
        host="h.example",
        registrable_domain="h.example",
        probed_at=datetime.now(UTC),
        **values,  # type: ignore[arg-type]
    )


def _setup(engine: sa.Engine, n: int) -> tuple[int, list[int]]:
    with engine.begin() as conn:
        run_id = create_run(conn, {})
        ids = [
            int(
                conn.execute(
                    sa.text("INSERT INTO endpoints (url, host) VALUES (:u, 'h') RETURNING id"),
                    {"u": f"https://h{i}.example/mcp"},
                ).scalar_one()
            )
            for i in range(n)
        ]
    return run_id, ids


async def test_a_batch_written_twice_is_stored_once(database_url: str, engine: sa.Engine) -> None:
    run_id, ids = _setup(engine, 3)
    tools = (_tool("search", "find things"), _tool("fetch", "get a page"))
    batch = [
        Observed(
            i,
            _observation(f"https://h{n}.example/mcp", tools=tools),
            Evidence("u", datetime.now(UTC)),
        )
        for n, i in enumerate(ids)
    ]
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        assert await write_observations(conn, run_id, batch) == 3
        assert await write_observations(conn, run_id, batch) == 0  # a retried shard
    with engine.connect() as conn:
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("observations", "observation_tools", "tool_definitions", "evidence")
        ]
    assert counts == [3, 6, 2, 3]


async def test_nul_bytes_and_control_characters_from_a_hostile_server_are_stored(
    database_url: str, engine: sa.Engine
) -> None:
    run_id, ids = _setup(engine, 1)
    hostile = "evil\x00name\x1b[31m"
    observation = _observation(
        "https://h0.example/mcp",
        server_name=hostile,
        status=Status.DEGRADED,
        failure_reason=FailureReason.PROTOCOL_ERROR,
        tools=(_tool(hostile, hostile),),
    )
    exchange = Exchange(step="initialize", method="POST", url="u", body=hostile)
    evidence = Evidence("u", datetime.now(UTC), exchanges=(exchange,))
    async with await psycopg.AsyncConnection.connect(libpq_url(database_url)) as conn:
        assert (
            await write_observations(conn, run_id, [Observed(ids[0], observation, evidence)]) == 1
        )
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT server_name FROM observations")).scalar_one()
    assert name == "evil\\x00name\x1b[31m"  # NUL escaped (census.store.sanitize)


def test_evidence_over_the_cap_is_shortened_to_fit() -> None:
    big = "x" * (EVIDENCE_MAX_BYTES // 4)
    exchanges = tuple(Exchange(step=f"s{i}", method="POST", url="u", body=big) for i in range(8))
    document = evidence_document(Evidence("u", datetime.now(UTC), exchanges=exchanges))
    assert len(document.encode()) <= EVIDENCE_MAX_BYTES
    parsed = json.loads(document)
    assert parsed["notes"]["evidence_shortened"] is True
    assert all(x["body_truncated"] for x in parsed["exchanges"])
