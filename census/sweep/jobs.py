"""Scale-out: a domain list split into procrastinate jobs (chunks), like the crawl's shards.

A sweep has a name (by default derived from the list's content, so running the same command
again *is* the resume).  Its domains are sorted by registrable domain and cut into chunks of
``chunk_size``, so that every name of one apex lands in one chunk and one worker owns that
apex's politeness clock.  Each chunk is one ``census.sweep_chunk`` job on the crawl queue (any
``census worker`` takes it); its domains travel in the job's arguments, so workers need no
shared file.

Storage uses discovery's tables only: the sweep is a source (``sources.name`` = the sweep's
name, kind ``sweep``); each finished chunk is one ``source_reads`` row (``entries`` = its
domains, never a complete listing, so no listing is ever ended by a chunk) whose ``rejected``
mapping carries the chunk's number and counts (DNS outcomes, requests, ``skipped_by_robots``);
each candidate becomes an endpoint and a listing whose raw entry says how it was found.  A chunk
with a read row is done: a retried or re-queued chunk returns at once, and storing is an
idempotent upsert, so at-least-once delivery stores every candidate once.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import procrastinate
import sqlalchemy as sa
from procrastinate import exceptions as pexc
from sqlalchemy.engine import Engine

from census.discovery.normalize import normalize_url, registrable_domain
from census.discovery.optout import OptOut
from census.discovery.source import make_candidate
from census.errors import ConfigError
from census.records import Candidate
from census.store import make_engine
from census.store.discovery import record_source_read
from census.sweep.model import DomainResult, SweepSettings
from census.sweep.pipeline import sweep_domains

__all__ = [
    "SOURCE_KIND",
    "SWEEP_CHUNK",
    "SweepProgress",
    "chunk_domains",
    "done_chunks",
    "queue_sweep",
    "read_domain_list",
    "register_sweep_task",
    "run_chunk",
    "sweep_name",
    "sweep_progress",
]

log = logging.getLogger(__name__)
SWEEP_CHUNK = "census.sweep_chunk"
SOURCE_KIND = "sweep"
#: A domain list may be large (a zone file's names); 1,000,000 names are about 20 MB.
MAX_LIST_BYTES = 512 * 1024 * 1024
_CHUNK_KEY = "chunk"


def read_domain_list(path: Path) -> list[str]:
    """Domains, one a line (``#`` comments, a trailing dot and case ignored, duplicates merged);
    a line that is not a public domain name is the user's error (one line, exit 2)."""
    try:
        if path.stat().st_size > MAX_LIST_BYTES:
            raise ConfigError(f"domain list {str(path)!r} is larger than 512 MiB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read domain list {str(path)!r}: {exc}") from exc
    seen: set[str] = set()
    out: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        domain = line.split("#", 1)[0].strip().lower().rstrip(".")
        if not domain or domain in seen:
            continue
        if "://" in domain or "/" in domain or " " in domain or "." not in domain:
            raise ConfigError(f"{path}:{number}: not a domain name: {domain[:80]!r}")
        normalized = normalize_url(f"https://{domain}")
        if normalized.host != domain or normalized.rejected is not None:
            raise ConfigError(f"{path}:{number}: not a public domain name: {domain[:80]!r}")
        seen.add(domain)
        out.append(domain)
    if not out:
        raise ConfigError(f"domain list {str(path)!r} names no domain")
    return out


def sweep_name(domains: Sequence[str]) -> str:
    """The default name of a sweep: stable for one list, whatever its order."""
    digest = hashlib.sha256("\n".join(sorted(domains)).encode()).hexdigest()
    return f"sweep-{digest[:12]}"


def chunk_domains(domains: Sequence[str], size: int) -> list[list[str]]:
    """Chunks of about ``size`` domains, every name of one apex in the same chunk."""
    keyed = sorted(domains, key=lambda d: (registrable_domain(d) or d, d))
    chunks: list[list[str]] = []
    current: list[str] = []
    last_apex = None
    for domain in keyed:
        apex = registrable_domain(domain) or domain
        if len(current) >= size and apex != last_apex:
            chunks.append(current)
            current = []
        current.append(domain)
        last_apex = apex
    if current:
        chunks.append(current)
    return chunks


def done_chunks(engine: Engine, name: str) -> dict[int, dict[str, int]]:
    """The finished chunks of a sweep and their counts."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.rejected FROM source_reads r JOIN sources s ON s.id = r.source_id"
                " WHERE s.name = :name AND s.kind = :kind AND r.rejected ? :key"
            ),
            {"name": name, "kind": SOURCE_KIND, "key": _CHUNK_KEY},
        ).all()
    out: dict[int, dict[str, int]] = {}
    for (counts,) in rows:
        out.setdefault(int(counts[_CHUNK_KEY]), dict(counts))
    return out


@dataclass(frozen=True, slots=True)
class SweepProgress:
    chunks_done: int
    chunks_total: int
    counts: Counter[str]

    @property
    def complete(self) -> bool:
        return self.chunks_done >= self.chunks_total


def sweep_progress(engine: Engine, name: str, chunks_total: int) -> SweepProgress:
    done = done_chunks(engine, name)
    counts: Counter[str] = Counter()
    for chunk in done.values():
        counts.update({k: v for k, v in chunk.items() if k != _CHUNK_KEY})
    return SweepProgress(len(done), chunks_total, counts)


async def queue_sweep(
    engine: Engine,
    app: procrastinate.App,
    name: str,
    chunks: Sequence[Sequence[str]],
    settings: SweepSettings,
    opt_out: OptOut | None = None,
) -> int:
    """Queue every chunk not done yet (a queueing lock per chunk: never twice in the queue)."""
    done = await anyio.to_thread.run_sync(done_chunks, engine, name)
    task = app.tasks[SWEEP_CHUNK]
    arguments = settings.to_json()
    if opt_out is not None and len(opt_out):
        # Candidates found on a swept domain may name other hosts: the rules go with the job.
        arguments["opt_out"] = {
            "domains": sorted(opt_out.domains),
            "prefixes": list(opt_out.prefixes),
        }
    queued = 0
    for number, chunk in enumerate(chunks):
        if number in done:
            continue
        try:
            await task.configure(queueing_lock=f"{name}-chunk{number}").defer_async(
                sweep=name,
                chunk_no=number,
                chunks=len(chunks),
                domains=list(chunk),
                settings=arguments,
            )
            queued += 1
        except pexc.AlreadyEnqueued:
            pass
    return queued


@dataclass(slots=True)
class _ChunkRead:
    """One chunk as a discovery read (``census.store.discovery.SourceReadData``)."""

    name: str
    location: str
    started_at: datetime
    entries: int
    candidates: list[Candidate]
    rejected: dict[str, int]
    duplicates: int = 0
    kind: str = SOURCE_KIND
    finished_at: datetime | None = None
    since: datetime | None = None
    tombstones: list[Candidate] = field(default_factory=list)
    #: A chunk is never a whole listing: nothing it did not see may be ended.
    complete: bool = False
    error: str | None = None


def candidates_of(name: str, result: DomainResult) -> list[Candidate]:
    """The candidates of one domain, each with how it was found as its raw entry."""
    out = []
    dns: dict[str, Any] = {
        "apex": result.dns.apex.to_json(),
        "mcp": result.dns.mcp.to_json(),
        "txt": list(result.dns.txt),
        "wildcard": result.dns.wildcard,
    }
    for url, how, transport, card in result.found:
        raw: dict[str, Any] = {"domain": result.domain, "found_by": how, "sweep": name, "dns": dns}
        if card is not None:
            raw["card"] = card
        out.append(
            make_candidate(
                name,
                url,
                raw,
                server_name=card.get("name") if card else None,
                server_version=card.get("version") if card else None,
                transport=transport,
            )
        )
    return out


async def run_chunk(
    database_url: str,
    user_agent: str,
    name: str,
    chunk_no: int,
    chunks: int,
    domains: Sequence[str],
    settings: Mapping[str, Any],
    opt_out: OptOut | None = None,
) -> bool:
    """Sweep one chunk and store it; False when it was already done (a retry, a re-queue)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        if chunk_no in await anyio.to_thread.run_sync(done_chunks, engine, name):
            return False
        started = datetime.now(UTC)
        found: list[DomainResult] = []
        config = SweepSettings.from_json(dict(settings), user_agent)
        stats = await sweep_domains(domains, config, lambda r: found.append(r) if r.found else None)
        accepted: dict[str, Candidate] = {}
        rejected: Counter[str] = Counter()
        mentions = 0
        for result in found:
            for candidate in candidates_of(name, result):
                if candidate.rejected is None and opt_out and opt_out.matches(candidate.url):
                    rejected["opted_out"] += 1
                elif candidate.rejected is not None:
                    rejected[candidate.rejected] += 1
                else:
                    mentions += 1
                    accepted.setdefault(candidate.url, candidate)
        counts = {**stats.counts(), **{f"rejected_{k}": v for k, v in rejected.items()}}
        counts[_CHUNK_KEY] = chunk_no
        counts["chunks"] = chunks
        read = _ChunkRead(
            name=name,
            location=f"domain sweep, chunk {chunk_no + 1} of {chunks}",
            started_at=started,
            entries=len(domains),
            candidates=list(accepted.values()),
            rejected=counts,
            duplicates=mentions - len(accepted),
            finished_at=datetime.now(UTC),
        )

        def store() -> None:
            with engine.begin() as conn:
                # One chunk stored once, even if two workers raced on a re-queued chunk.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": name})
                if chunk_no in done_chunks_in(conn, name):
                    return
                record_source_read(conn, read)

        await anyio.to_thread.run_sync(store)
        log.info("sweep %s chunk %s: %s", name, chunk_no, stats.counts())
        return True
    finally:
        engine.dispose()


def done_chunks_in(conn: sa.Connection, name: str) -> set[int]:
    rows = conn.execute(
        sa.text(
            "SELECT (r.rejected ->> :key)::int FROM source_reads r"
            " JOIN sources s ON s.id = r.source_id"
            " WHERE s.name = :name AND s.kind = :kind AND r.rejected ? :key"
        ),
        {"name": name, "kind": SOURCE_KIND, "key": _CHUNK_KEY},
    ).all()
    return {int(row[0]) for row in rows}


def register_sweep_task(app: procrastinate.App, queue: str) -> None:
    """Register ``census.sweep_chunk`` on a census procrastinate app (``make_app`` calls this)."""

    @app.task(
        name=SWEEP_CHUNK,
        queue=queue,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=3, linear_wait=2),
    )
    async def sweep_chunk(
        context: procrastinate.JobContext,
        sweep: str,
        chunk_no: int,
        chunks: int,
        domains: list[str],
        settings: dict[str, Any],
    ) -> None:
        runtime = context.additional_context["census"]
        await run_chunk(
            runtime.database_url,
            runtime.user_agent,
            sweep,
            chunk_no,
            chunks,
            domains,
            settings,
            _opt_out(settings),
        )


def _opt_out(settings: Mapping[str, Any]) -> OptOut:
    rules = settings.get("opt_out") or {}
    return OptOut(frozenset(rules.get("domains", ())), tuple(rules.get("prefixes", ())))
