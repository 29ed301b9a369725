"""The bulk observation writer: COPY into staging tables, then one INSERT … ON CONFLICT per table.

Each (run, endpoint) is written exactly once: the first write wins (``ON CONFLICT DO NOTHING``),
and the tools and evidence of an observation are written only in the transaction that inserted it,
so a retried shard (at-least-once delivery from the queue) never duplicates anything.

Every value passes through :mod:`census.store.sanitize` first (:func:`storable`), so nothing a
server sent can make the batch fail; what was changed is flagged in the stored evidence
(``notes.sanitized``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from census.records import Evidence, Observation, ToolDefinition
from census.store.models import EVIDENCE_MAX_BYTES
from census.store.sanitize import Sanitizer
from census.vocabulary import COLUMNS

__all__ = [
    "OBSERVATION_COLUMNS",
    "Observed",
    "evidence_document",
    "libpq_url",
    "storable",
    "write_confirmations",
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
    return value.value if isinstance(value, StrEnum) else value


def _row(run_id: int, item: Observed) -> tuple[Any, ...]:
    obs = item.observation
    values = [_value(getattr(obs, column)) for column in OBSERVATION_COLUMNS]
    values[_FINDINGS] = list(obs.findings)
    return (run_id, item.endpoint_id, *values)


#: A tool definition as stored: (name, description, input_schema JSON, canonical JSON, tokens).
ToolRow = tuple[str, str | None, str, str, int]
#: Sanitised rows of recent definitions by hash (they recur across endpoints, like token counts).
_TOOL_ROWS: dict[str, tuple[ToolRow, frozenset[str]]] = {}
_TOOL_ROWS_MAX = 4096


def _tool_row(tool: ToolDefinition) -> tuple[ToolRow, frozenset[str]]:
    cached = _TOOL_ROWS.get(tool.sha256)
    if cached is None:
        sanitizer = Sanitizer()
        cached = (sanitizer.tool(tool), frozenset(sanitizer.flags))
        if len(_TOOL_ROWS) >= _TOOL_ROWS_MAX:
            _TOOL_ROWS.clear()
        _TOOL_ROWS[tool.sha256] = cached
    return cached


def storable(item: Observed) -> Observed:
    """The item with every value storable (``census.store.sanitize``), flags in its evidence."""
    sanitizer = Sanitizer()
    observation = sanitizer.observation(item.observation)
    for tool in observation.tools:
        sanitizer.flags |= _tool_row(tool)[1]
    if item.evidence is None:
        return Observed(item.endpoint_id, observation, None)
    notes = sanitizer.note(item.evidence.notes)
    if any(tool.tokens_estimated for tool in observation.tools):
        notes = {**notes, "tokens_estimated": True}
    evidence = item.evidence
    if notes is not evidence.notes:
        evidence = Evidence(
            evidence.url, evidence.started_at, evidence.exchanges, evidence.tls, notes
        )
    return Observed(item.endpoint_id, observation, evidence)


def evidence_document(evidence: Evidence) -> str:
    """Evidence as storable JSON text (``census.store.sanitize``) within the stored size cap.

    Values the database refuses are replaced by the sanitiser's rules and listed in
    ``notes.sanitized``.  Over the cap, bodies are shortened step by step (4 KiB, 512 B, none)
    and the document says so.
    """
    sanitizer = Sanitizer()
    text = sanitizer.json_text(evidence.as_document())
    if sanitizer.flags:
        document = json.loads(text)
        notes = document.get("notes")
        document["notes"] = sanitizer.note(notes if isinstance(notes, dict) else {}, _flags(notes))
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
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
            "url": Sanitizer().text(evidence.url),
            "started_at": evidence.started_at.isoformat(),
            "notes": {"evidence_dropped": "over the size cap"},
        }
    )


def _flags(notes: Any) -> list[str]:
    """Flags already noted (``storable`` records the observation's before the evidence's)."""
    found = notes.get("sanitized") if isinstance(notes, dict) else None
    return [f for f in found if isinstance(f, str)] if isinstance(found, list) else []


async def _stage(
    cur: psycopg.AsyncCursor[Any], run_id: int, items: Sequence[Observed], columns: str
) -> None:
    """COPY the batch into a per-transaction staging table (emptied at commit)."""
    await cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_observations"
        " (LIKE observations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    async with cur.copy(f"COPY stage_observations ({columns}) FROM STDIN") as copy:
        for item in items:
            await copy.write_row(_row(run_id, item))


async def write_observations(
    conn: psycopg.AsyncConnection[Any], run_id: int, items: Sequence[Observed]
) -> int:
    """Store a batch in one transaction; returns how many observations were new."""
    if not items:
        return 0
    items = [storable(item) for item in items]
    columns = ", ".join(("run_id", "endpoint_id", *OBSERVATION_COLUMNS))
    async with conn.transaction(), conn.cursor() as cur:
        await _stage(cur, run_id, items, columns)
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
            await copy.write_row((tool.sha256, *_tool_row(tool)[0], TOKENIZER))
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
    cur: psycopg.AsyncCursor[Any], run_id: int, items: Sequence[Observed], attempt: int = 1
) -> None:
    rows = [(item.endpoint_id, evidence_document(item.evidence)) for item in items if item.evidence]
    if not rows:
        return
    async with cur.copy(
        "COPY evidence (run_id, endpoint_id, attempt, size_bytes, data) FROM STDIN"
    ) as copy:
        for endpoint_id, document in rows:
            await copy.write_row((run_id, endpoint_id, attempt, len(document.encode()), document))


#: Columns a confirmation replaces: every observation column but the attempt columns, which the
#: UPDATE derives from the stored first verdict.
_ATTEMPT_COLUMNS = ("attempts", "confirmed", "flapping")
_REPLACED = tuple(c for c in OBSERVATION_COLUMNS if c not in _ATTEMPT_COLUMNS)


async def write_confirmations(
    conn: psycopg.AsyncConnection[Any], run_id: int, items: Sequence[Observed]
) -> int:
    """Store second attempts (census.vocabulary.VERDICT_RULE) in one transaction.

    The second attempt's observation replaces the first's (its tools too); ``attempts`` becomes
    2 and ``confirmed``/``flapping`` compare the two statuses in the UPDATE itself, so the first
    verdict is read where it is stored.  The evidence is added as attempt 2 beside the first's.
    Only observations still at one attempt are replaced, so a retried confirmation job never
    writes anything twice.  Returns how many observations were replaced.
    """
    if not items:
        return 0
    items = [storable(item) for item in items]
    columns = ", ".join(("run_id", "endpoint_id", *OBSERVATION_COLUMNS))
    targets = ", ".join(_REPLACED)
    sources = ", ".join(f"s.{c}" for c in _REPLACED)
    async with conn.transaction(), conn.cursor() as cur:
        await _stage(cur, run_id, items, columns)
        await cur.execute(
            f"UPDATE observations o SET ({targets}) = ({sources}), attempts = 2,"
            " confirmed = (o.status = s.status), flapping = (o.status <> s.status)"
            " FROM stage_observations s WHERE o.run_id = s.run_id"
            " AND o.endpoint_id = s.endpoint_id AND o.attempts = 1 RETURNING o.endpoint_id"
        )
        replaced = {row[0] for row in await cur.fetchall()}
        fresh = [item for item in items if item.endpoint_id in replaced]
        if replaced:
            await cur.execute(
                "DELETE FROM observation_tools WHERE run_id = %s AND endpoint_id = ANY(%s)",
                (run_id, sorted(replaced)),
            )
        await _write_tools(cur, run_id, fresh)
        await _write_evidence(cur, run_id, fresh, attempt=2)
    return len(replaced)
