"""Finding exchanges in Evidence by step (the step names the prober writes)."""

from __future__ import annotations

from census.records import Evidence, Exchange

__all__ = ["LIST_METHODS", "first", "last", "steps"]

LIST_METHODS = ("tools/list", "resources/list", "prompts/list")


def steps(evidence: Evidence, name: str) -> list[Exchange]:
    return [x for x in evidence.exchanges if x.step == name]


def last(evidence: Evidence, *names: str) -> Exchange | None:
    """The last exchange of the first step name present (e.g. a retry before the original)."""
    for name in names:
        found = steps(evidence, name)
        if found:
            return found[-1]
    return None


def first(evidence: Evidence, name: str) -> Exchange | None:
    found = steps(evidence, name)
    return found[0] if found else None
