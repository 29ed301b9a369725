"""Finding exchanges in Evidence by step (the step names the prober writes), and the form in
which evidence is stored.

Storage cap (the design, in one place): the prober keeps every body whole in memory, up to its
read caps, and classification reads the whole body.  :func:`stored_form` is applied when
evidence is serialised for storage: a body longer than :data:`STORED_BODY_CHARS` is cut to that
prefix (``body_truncated``) and the exchange gains ``parsed``, the facts of the whole body that
the classifiers read (``census.classify.wire.reduce_answer``).  Classifying the stored form
therefore gives the verdict the whole body gave; classification stays pure and re-runnable.
List pages are stored whole (their items are the tool definitions) up to the decoded read cap.
"""

from __future__ import annotations

from dataclasses import replace

from census.classify.wire import reduce_answer
from census.records import Evidence, Exchange

__all__ = ["LIST_METHODS", "STORED_BODY_CHARS", "first", "last", "steps", "stored_form"]

LIST_METHODS = ("tools/list", "resources/list", "prompts/list")
#: Characters of a (non-list) body kept in stored evidence; the rest is summarised in ``parsed``.
STORED_BODY_CHARS = 16 << 10


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


def stored_form(evidence: Evidence, body_chars: int = STORED_BODY_CHARS) -> Evidence:
    """The evidence as it is stored: long bodies cut, with what classification reads of them.

    Pure and idempotent (an exchange already cut keeps its ``parsed``).  Never raises.
    """
    exchanges = tuple(_stored(x, body_chars) for x in evidence.exchanges)
    if all(a is b for a, b in zip(exchanges, evidence.exchanges, strict=True)):
        return evidence
    return replace(evidence, exchanges=exchanges)


def _stored(exchange: Exchange, body_chars: int) -> Exchange:
    body = exchange.body
    if body is None or len(body) <= body_chars or exchange.parsed is not None:
        return exchange
    if exchange.step.endswith(LIST_METHODS):
        return exchange
    return replace(
        exchange, body=body[:body_chars], body_truncated=True, parsed=reduce_answer(exchange)
    )
