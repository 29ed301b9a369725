"""Persisting discovery: sources, their reads, endpoints and listings (idempotent upserts).

One call, :func:`record_source_read`, stores one read of one source in one transaction:

* the source row (``sources``, by unique name) is created or its kind/location refreshed;
* every accepted candidate becomes (or refreshes) one ``endpoints`` row per canonical URL and
  one ``listings`` row per (source, endpoint) with the raw entry as provenance;
* registry tombstones (entries marked deleted) end that source's listing of the URL;
* a **complete** full read (not an incremental ``since`` read, not cut short by a failure)
  ends this source's listings it did not see again — nothing is ever deleted;
* an endpoint is ``still_listed`` while any listing of it is; hosts with at least
  ``platform_min_endpoints`` endpoints are flagged ``platform_host``.

Re-running the same read changes nothing but ``last_seen`` timestamps (and appends a
``source_reads`` row, the record of the read itself).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from census.records import Candidate
from census.store.models import Endpoint, Listing, Source, SourceRead

__all__ = ["SourceReadData", "StoredRead", "record_source_read"]

_CHUNK = 1000


class SourceReadData(Protocol):
    """What a discovery read provides (``census.discovery.pipeline.SourceResult`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def since(self) -> datetime | None: ...
    @property
    def candidates(self) -> Sequence[Candidate]: ...
    @property
    def tombstones(self) -> Sequence[Candidate]: ...
    @property
    def rejected(self) -> Mapping[str, int]: ...
    @property
    def entries(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def complete(self) -> bool: ...
    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class StoredRead:
    """What storing one read changed."""

    source_id: int
    read_id: int
    new_endpoints: int
    remote_urls: int
    duplicates: int
    #: Listings of this source that ended with this read (tombstones, or gone from a full read).
    listings_ended: int


def record_source_read(
    conn: Connection, read: SourceReadData, *, platform_min_endpoints: int = 5
) -> StoredRead:
    """Store one read of one source (call inside a transaction: ``engine.begin()``)."""
    now = datetime.now(UTC)
    source_id = conn.execute(
        insert(Source)
        .values(name=read.name, kind=read.kind, location=read.location)
        .on_conflict_do_update(
            index_elements=[Source.name],
            set_={"kind": read.kind, "location": read.location},
        )
        .returning(Source.id)
    ).scalar_one()
    endpoint_ids, new_endpoints = _upsert_endpoints(conn, read.candidates, now)
    _upsert_listings(conn, source_id, read.candidates, endpoint_ids, now)
    ended = _end_listings(conn, source_id, read, now)
    _refresh_endpoints(conn, platform_min_endpoints)
    read_id = conn.execute(
        sa.insert(SourceRead)
        .values(
            source_id=source_id,
            started_at=read.started_at,
            finished_at=read.finished_at or now,
            since=read.since,
            entries=read.entries,
            remote_urls=len(read.candidates),
            new_endpoints=new_endpoints,
            duplicates=read.duplicates,
            rejected=dict(read.rejected),
            error=read.error,
        )
        .returning(SourceRead.id)
    ).scalar_one()
    return StoredRead(
        int(source_id),
        int(read_id),
        new_endpoints,
        len(read.candidates),
        read.duplicates,
        ended,
    )


def _upsert_endpoints(
    conn: Connection, candidates: Sequence[Candidate], now: datetime
) -> tuple[dict[str, int], int]:
    ids: dict[str, int] = {}
    new = 0
    for start in range(0, len(candidates), _CHUNK):
        chunk = candidates[start : start + _CHUNK]
        statement = insert(Endpoint).values(
            [
                {
                    "url": c.url,
                    "host": c.host,
                    "registrable_domain": c.registrable_domain,
                    "platform_host": c.platform_host,
                    "secret_in_url": c.secret_in_url,
                    "first_seen": now,
                    "last_seen": now,
                    "still_listed": True,
                }
                for c in chunk
            ]
        )
        upsert: Any = statement.on_conflict_do_update(
            index_elements=[Endpoint.url],
            set_={
                "last_seen": statement.excluded.last_seen,
                "still_listed": True,
                "secret_in_url": Endpoint.secret_in_url | statement.excluded.secret_in_url,
                "platform_host": Endpoint.platform_host | statement.excluded.platform_host,
            },
        ).returning(Endpoint.id, Endpoint.url, sa.literal_column("(xmax = 0)", sa.Boolean))
        # xmax = 0 marks a row this statement inserted (an update sets xmax).
        for endpoint_id, url, inserted in conn.execute(upsert):
            ids[url] = int(endpoint_id)
            new += bool(inserted)
    return ids, new


def _upsert_listings(
    conn: Connection,
    source_id: int,
    candidates: Sequence[Candidate],
    endpoint_ids: Mapping[str, int],
    now: datetime,
) -> None:
    for start in range(0, len(candidates), _CHUNK):
        chunk = candidates[start : start + _CHUNK]
        statement = insert(Listing).values(
            [
                {
                    "source_id": source_id,
                    "endpoint_id": endpoint_ids[c.url],
                    "raw": _jsonable(c.raw),
                    "server_name": c.server_name,
                    "server_version": c.server_version,
                    "repository": c.repository,
                    "transport_hint": c.transport_hint,
                    "first_seen": now,
                    "last_seen": now,
                    "still_listed": True,
                }
                for c in chunk
            ]
        )
        excluded = statement.excluded
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[Listing.source_id, Listing.endpoint_id],
                set_={
                    "raw": excluded.raw,
                    "server_name": excluded.server_name,
                    "server_version": excluded.server_version,
                    "repository": excluded.repository,
                    "transport_hint": excluded.transport_hint,
                    "last_seen": excluded.last_seen,
                    "still_listed": True,
                },
            )
        )


def _end_listings(conn: Connection, source_id: int, read: SourceReadData, now: datetime) -> int:
    ended = 0
    accepted = {c.url for c in read.candidates}
    gone = sorted({t.url for t in read.tombstones} - accepted)
    if gone:
        ended += conn.execute(
            sa.update(Listing)
            .where(
                Listing.source_id == source_id,
                Listing.still_listed.is_(True),
                Listing.endpoint_id.in_(sa.select(Endpoint.id).where(Endpoint.url.in_(gone))),
            )
            .values(still_listed=False)
        ).rowcount
    if read.complete and read.since is None:
        # A whole listing was read: what this source no longer lists has ended (kept, marked).
        ended += conn.execute(
            sa.update(Listing)
            .where(
                Listing.source_id == source_id,
                Listing.still_listed.is_(True),
                Listing.last_seen < now,
            )
            .values(still_listed=False)
        ).rowcount
    return ended


def _refresh_endpoints(conn: Connection, platform_min_endpoints: int) -> None:
    conn.execute(
        sa.text(
            "UPDATE endpoints e SET still_listed = x.listed"
            " FROM (SELECT endpoint_id, bool_or(still_listed) AS listed"
            "       FROM listings GROUP BY endpoint_id) x"
            " WHERE x.endpoint_id = e.id AND e.still_listed IS DISTINCT FROM x.listed"
        )
    )
    conn.execute(
        sa.text(
            "UPDATE endpoints SET platform_host = true WHERE NOT platform_host AND host IN"
            " (SELECT host FROM endpoints GROUP BY host HAVING count(*) >= :n)"
        ),
        {"n": platform_min_endpoints},
    )


def _jsonable(raw: Mapping[str, Any]) -> dict[str, Any]:
    # YAML gives dates, sources may give odd scalars; PostgreSQL refuses NUL in text.
    text = json.dumps(raw, default=str, ensure_ascii=False).replace("\\u0000", "")
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}
