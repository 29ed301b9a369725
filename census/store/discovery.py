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

Every value is made storable by :mod:`census.store.sanitize` first: a registry can list any
text.  A candidate whose URL is longer than the unique index on endpoint URLs allows
(``MAX_URL_BYTES``) is not stored but counted as rejected (``url_too_long``, discovery's reason
for the same defect); a raw entry changed by the sanitiser says so in ``_census_sanitized``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from census.records import Candidate
from census.store.models import Endpoint, Listing, Source, SourceRead
from census.store.sanitize import MAX_INDEXED_BYTES, MAX_URL_BYTES, Sanitizer, ordered

__all__ = ["SourceReadData", "StoredRead", "record_source_read"]

_CHUNK = 1000
#: ``census.discovery.reasons.DiscoveryReason.URL_TOO_LONG`` (the store may not import discovery).
URL_TOO_LONG = "url_too_long"


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
    clean = Sanitizer()
    name = clean.text(read.name, MAX_INDEXED_BYTES)
    kind = clean.text(read.kind)
    location = clean.optional_text(read.location)
    source_id = conn.execute(
        insert(Source)
        .values(name=name, kind=kind, location=location)
        .on_conflict_do_update(
            index_elements=[Source.name],
            set_={"kind": kind, "location": location},
        )
        .returning(Source.id)
    ).scalar_one()
    candidates, too_long = _storable(read.candidates)
    rejected = {clean.text(str(reason)): count for reason, count in read.rejected.items()}
    if too_long:
        rejected[URL_TOO_LONG] = rejected.get(URL_TOO_LONG, 0) + too_long
    endpoint_ids, new_endpoints = _upsert_endpoints(conn, candidates, now)
    _upsert_listings(conn, source_id, candidates, endpoint_ids, now)
    ended = _end_listings(conn, source_id, read, now, candidates)
    _refresh_endpoints(conn, platform_min_endpoints)
    read_id = conn.execute(
        sa.insert(SourceRead)
        .values(
            source_id=source_id,
            started_at=read.started_at,
            finished_at=read.finished_at or now,
            since=read.since,
            entries=read.entries,
            remote_urls=len(candidates),
            new_endpoints=new_endpoints,
            duplicates=read.duplicates,
            rejected=rejected,
            error=clean.optional_text(read.error),
        )
        .returning(SourceRead.id)
    ).scalar_one()
    return StoredRead(
        int(source_id),
        int(read_id),
        new_endpoints,
        len(candidates),
        read.duplicates,
        ended,
    )


def _storable(candidates: Sequence[Candidate]) -> tuple[list[Candidate], int]:
    """The candidates with storable values, and how many were dropped for an over-long URL."""
    out: list[Candidate] = []
    too_long = 0
    for c in candidates:
        clean = Sanitizer()
        url = clean.text(c.url)
        if len(url.encode("utf-8")) > MAX_URL_BYTES:
            too_long += 1
            continue
        host = clean.text(c.host, MAX_INDEXED_BYTES)
        domain = clean.optional_text(c.registrable_domain, MAX_INDEXED_BYTES)
        texts = [
            clean.optional_text(value)
            for value in (c.server_name, c.server_version, c.repository, c.transport_hint)
        ]
        raw = _jsonable(c.raw, clean)
        out.append(
            replace(
                c,
                url=url,
                host=host,
                registrable_domain=domain,
                server_name=texts[0],
                server_version=texts[1],
                repository=texts[2],
                transport_hint=texts[3],
                raw=raw,
            )
        )
    return out, too_long


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
                    "raw": c.raw,
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


def _end_listings(
    conn: Connection,
    source_id: int,
    read: SourceReadData,
    now: datetime,
    candidates: Sequence[Candidate],
) -> int:
    ended = 0
    accepted = {c.url for c in candidates}
    gone = sorted({Sanitizer().text(t.url) for t in read.tombstones} - accepted)
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


def _jsonable(raw: Mapping[str, Any], clean: Sanitizer) -> dict[str, Any]:
    """The raw entry as storable JSON (YAML gives dates, sources any value a parser allows)."""
    before = set(clean.flags)
    text = clean.json_text(raw)
    flags = clean.flags - before
    value = json.loads(text)
    value = value if isinstance(value, dict) else {"value": value}
    if flags:
        value["_census_sanitized"] = ordered(flags)
    return value
