"""Read one source to the end: opt-out applied, duplicates merged, rejections counted.

This is discovery's only entry point for callers (``census discover``, the crawl): it returns a
:class:`SourceResult` that the store persists (``census.store.discovery``) without discovery
ever importing the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from census.discovery.optout import OptOut
from census.discovery.reasons import DiscoveryReason
from census.discovery.source import ReadLog, Source
from census.records import Candidate
from census.vocabulary import FailureReason

__all__ = ["SourceResult", "collect"]


@dataclass(slots=True)
class SourceResult:
    """What one read of one source yielded.

    ``candidates`` are the accepted endpoints, one per canonical URL, first listing kept;
    ``occurrences`` counts accepted URL mentions before merging, so ``duplicates`` (=
    occurrences − len(candidates)) is how many mentions merged into an earlier one of the same
    read.  ``tombstones`` are registry entries marked deleted (their listings end).
    """

    name: str
    kind: str
    location: str
    started_at: datetime
    finished_at: datetime | None = None
    since: datetime | None = None
    candidates: list[Candidate] = field(default_factory=list)
    tombstones: list[Candidate] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    #: Up to three (redacted) URLs per rejection reason, to show the catalogue's defects.
    rejected_examples: dict[str, list[str]] = field(default_factory=dict)
    occurrences: int = 0
    log: ReadLog = field(default_factory=ReadLog)

    @property
    def duplicates(self) -> int:
        return self.occurrences - len(self.candidates)

    @property
    def remote_urls(self) -> int:
        return len(self.candidates)

    @property
    def entries(self) -> int:
        return self.log.entries

    @property
    def complete(self) -> bool:
        return self.log.complete

    @property
    def error(self) -> str | None:
        """The problems that cut the read short, as one line (``None`` for a complete read)."""
        return "; ".join(self.log.problems) or None


async def collect(
    source: Source,
    opt_out: OptOut | None = None,
    *,
    since: datetime | None = None,
    progress: Callable[[ReadLog], None] | None = None,
) -> SourceResult:
    """Read ``source`` to the end and merge what it listed."""
    result = SourceResult(source.name, source.kind, source.location, datetime.now(UTC), since=since)
    seen: dict[str, int] = {}
    async for candidate in source.read(result.log):
        if candidate.rejected is None and opt_out is not None and opt_out.matches(candidate.url):
            candidate = replace(candidate, rejected=FailureReason.OPTED_OUT.value)
        if candidate.rejected is not None:
            result.rejected[candidate.rejected] += 1
            examples = result.rejected_examples.setdefault(candidate.rejected, [])
            if len(examples) < 3 and candidate.url not in examples:
                examples.append(candidate.url)
            if candidate.rejected == DiscoveryReason.DELETED and candidate.host:
                result.tombstones.append(candidate)
        else:
            result.occurrences += 1
            if candidate.url not in seen:
                seen[candidate.url] = len(result.candidates)
                result.candidates.append(candidate)
        if progress is not None:
            progress(result.log)
    result.finished_at = datetime.now(UTC)
    return result
