"""The bulk observation writer: COPY into staging tables, then one INSERT … ON CONFLICT per table.

Each (run, endpoint) is written exactly once: the first write wins (``ON CONFLICT DO NOTHING``),
and the tools and evidence of an observation are written only in the transaction that inserted it,
so a retried shard (at-least-once delivery from the queue) never duplicates anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from census.records import Evidence, Observation
from census.store.models import EVIDENCE_MAX_BYTES
from census.vocabulary import COLUMNS

__all__ = [
    "OBSERVATION_COLUMNS",
    "Observed",
    "evidence_document",
    "libpq_url",
    "write_observations",
]

#: Vocabulary columns known only from the endpoint and its listings, not stored per observation.
IDENTITY_COLUMNS = frozenset({"run_id", "url", "host", "registrable_domain", "sources"})
#: Observation columns written by the crawl, in COPY order (after run_id and endpoint_id).
OBSERVATION_COLUMNS = (
    "methodology_version",
    *(column for column in COLUMNS if column not in IDENTITY_COLUMNS),
)
TOKENIZER = "o200k_base"
_FINDINGS = OBSERVATION_COLUMNS.index("findings")


@dataclass(frozen=True, slots=True)
class Observed:
    """One endpoint's result, ready to store."""

    endpoint_id: int
    observation: Observation
    evidence: Evidence | None = None


def libpq_url(sqlalchemy_url: str) -> str:
    """The same database as a plain libpq URL (for psycopg and procrastinate)."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def _value(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, str):
        return _clean(value)
    return value


def _row(run_id: int, item: Observed) -> tuple[Any, ...]:
    obs = item.observation
    values = [_value(getattr(obs, column)) for column in OBSERVATION_COLUMNS]
    values[_FINDINGS] = list(obs.findings)
    return (run_id, item.endpoint_id, *values)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def evidence_document(evidence: Evidence) -> str:
    """Evidence as JSON text (``Evidence.to_json``) within the stored size cap.

    Over the cap, bodies are shortened step by step (4 KiB, 512 B, none) and the document says
    so.  NUL is escaped by JSON but refused by PostgreSQL's jsonb, so it is replaced.
    """
    text = evidence.to_json().replace("\\u0000", "\\ufffd")
    if len(text.encode()) <= EVIDENCE_MAX_BYTES:
        return text
    document = json.loads(text)
    for keep in (4096, 512, 0):
        for exchange in document.get("exchanges", []):
            body = exchange.get("body")
            if isinstance(body, str) and len(body) > keep:
                exchange["body"] = body[:keep]
                exchange["body_truncated"] = True
        document["notes"] = {**document.get("notes", {}), "evidence_shortened": True}
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) <= EVIDENCE_MAX_BYTES:
            return text
    return json.dumps(
        {
            "url": evidence.url,
            "started_at": evidence.started_at.isoformat(),
            "notes": {"evidence_dropped": "over the size cap"},
        }
    )


async def write_observations(
    conn: psycopg.AsyncConnection[Any], run_id: int, items: Sequence[Observed]
) -> int:
    """Store a batch in one transaction; returns how many observations were new."""
    if not items:
        return 0
    columns = ", ".join(("run_id", "endpoint_id", *OBSERVATION_COLUMNS))
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_observations"
            " (LIKE observations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        async with cur.copy(f"COPY stage_observations ({columns}) FROM STDIN") as copy:
            for item in items:
                await copy.write_row(_row(run_id, item))
        await cur.execute(
            f"INSERT INTO observations ({columns}) SELECT {columns} FROM stage_observations"
            " ON CONFLICT (run_id, endpoint_id) DO NOTHING RETURNING endpoint_id"
        )
        inserted = {row[0] for row in await cur.fetchall()}
        fresh = [item for item in items if item.endpoint_id in inserted]
        await _write_tools(cur, run_id, fresh)
        await _write_evidence(cur, run_id, fresh)
    return len(inserted)


async def _write_tools(
    cur: psycopg.AsyncCursor[Any], run_id: int, items: Sequence[Observed]
) -> None:
    definitions = {tool.sha256: tool for item in items for tool in item.observation.tools}
    if not definitions:
        return
    await cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_tools"
        " (LIKE tool_definitions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    async with cur.copy(
        "COPY stage_tools (sha256, name, description, input_schema, canonical_json, tokens,"
        " tokenizer) FROM STDIN"
    ) as copy:
        for tool in definitions.values():
            await copy.write_row(
                (
                    tool.sha256,
                    _clean(tool.name),
                    _clean(tool.description),
                    _clean(json.dumps(tool.input_schema, default=_default)),
                    _clean(tool.canonical_json),
                    tool.tokens,
                    TOKENIZER,
                )
            )
    await cur.execute(
        "INSERT INTO tool_definitions (sha256, name, description, input_schema, canonical_json,"
        " tokens, tokenizer) SELECT sha256, name, description, input_schema, canonical_json,"
        " tokens, tokenizer FROM stage_tools ON CONFLICT (sha256) DO NOTHING"
    )
    async with cur.copy(
        "COPY observation_tools (run_id, endpoint_id, position, tool_sha256) FROM STDIN"
    ) as copy:
        for item in items:
            for position, tool in enumerate(item.observation.tools):
                await copy.write_row((run_id, item.endpoint_id, position, tool.sha256))


async def _write_evidence(
    cur: psycopg.AsyncCursor[Any], run_id: int, items: Sequence[Observed]
) -> None:
    rows = [(item.endpoint_id, evidence_document(item.evidence)) for item in items if item.evidence]
    if not rows:
        return
    async with cur.copy("COPY evidence (run_id, endpoint_id, size_bytes, data) FROM STDIN") as copy:
        for endpoint_id, document in rows:
            await copy.write_row((run_id, endpoint_id, len(document.encode()), document))


def _clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; hostile servers send it in names and descriptions."""
    return None if text is None else text.replace("\x00", "\ufffd")
