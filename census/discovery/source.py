"""What every discovery source has in common: the :class:`Source` shape and the :class:`ReadLog`.

Each adapter module (official_registry, docker_catalog, smithery, awesome_list, seed_file,
domains) defines one frozen dataclass with ``name``, ``kind``, ``location`` and an async
generator ``read(log)`` that yields :class:`census.records.Candidate` objects and records in the
log what it read and what went wrong.  Remote misbehaviour (a 500, a malformed page, a cursor
that loops) goes into the log, never out as an exception; only our user's own mistakes (a
missing file, a malformed seed file) raise :class:`census.errors.ConfigError`, and the file
sources check those when they are built, before anything touches the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from census.discovery.normalize import is_known_platform, normalize_url, redact_raw, transport_hint
from census.records import Candidate

__all__ = ["ReadLog", "Source", "make_candidate"]


@dataclass(slots=True)
class ReadLog:
    """Filled by a source while it is read.

    ``entries`` counts the source's own units (registry items, YAML files, table rows, seed
    lines, domains).  ``skipped`` counts entries that name no remote URL, by why (``no_remote``,
    ``superseded_version``, ``malformed_entry``…).  ``incidents`` are misbehaviours survived
    (a 429 waited out, a 500 retried, a malformed entry skipped); ``problems`` are the ones that
    ended the read early.  ``complete`` is true only when the whole listing was read, which is
    what allows the store to mark listings that disappeared as no longer listed.
    """

    entries: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    incidents: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    complete: bool = True
    #: Progress hint for the CLI: total entries expected when the source knows it.
    expected: int | None = None

    def fail(self, problem: str) -> None:
        """Record a problem that stopped the read: the listing is incomplete."""
        self.problems.append(problem)
        self.complete = False


class Source(Protocol):
    """The shape of every discovery source."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def location(self) -> str: ...

    def read(self, log: ReadLog) -> AsyncIterator[Candidate]: ...


def make_candidate(
    source: str,
    url: object,
    raw: Mapping[str, Any],
    *,
    server_name: object = None,
    server_version: object = None,
    repository: object = None,
    transport: object = None,
    rejected: str | None = None,
) -> Candidate:
    """Normalize a listed URL into a Candidate, redacting secrets in it and in the raw entry.

    ``rejected`` forces a reason (a registry tombstone); otherwise normalization decides.
    """
    text = url if isinstance(url, str) else ""
    normalized = normalize_url(text)
    return Candidate(
        source=source,
        url=normalized.url,
        raw=redact_raw(dict(raw)),
        server_name=_text(server_name),
        server_version=_text(server_version),
        repository=_text(repository),
        transport_hint=transport_hint(transport, normalized.url),
        rejected=normalized.rejected or rejected,
        host=normalized.host,
        registrable_domain=normalized.registrable_domain,
        secret_in_url=normalized.secret_in_url,
        platform_host=bool(normalized.host) and is_known_platform(normalized.host),
    )


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:500]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
