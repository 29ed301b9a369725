"""The report as values: what the SQL aggregates return and every renderer consumes.

A :class:`Figure` always carries its numerator and its denominator (with the denominator's name),
so no percentage leaves census without the population it was computed on.  Denominators:

    all            every endpoint observed in the run
    probed         all minus ``skipped`` (not probed by policy)
    reachable      probed minus ``unreachable`` (some HTTP server answered)
    mcp_answering  ``healthy`` + ``degraded`` + ``auth_required``: MCP confirmed, or the MCP
                   request met an authorization wall — the population auth, CORS and
                   rate-limit classes are determined on (Bloomberry's "MCP detected")
    mcp_confirmed  ``healthy`` + ``degraded``: MCP confirmed in some era
    with_tools     MCP-confirmed endpoints whose tools were listed (``tool_count`` not empty)
    oauth_any      ``auth_class`` in (``oauth``, ``oauth_partial``)

Every share carries its 95% Wilson score interval (``ci_low``/``ci_high``, in percent like the
share itself; computed in :mod:`census.report.stats`).  The comparisons with published studies
name the denominators those studies used (``bb_mcp_detected`` …), listed here as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DENOMINATORS",
    "Breakdown",
    "Comparison",
    "Figure",
    "Report",
    "RunInfo",
]

#: Every denominator a figure may name, with the sentence printed beside it.
DENOMINATORS: dict[str, str] = {
    "all": "all endpoints observed",
    "probed": "endpoints probed (not skipped by policy)",
    "reachable": "reachable endpoints (an HTTP server answered)",
    "mcp_answering": "MCP endpoints (confirmed, or behind an auth wall)",
    "mcp_confirmed": "MCP-confirmed endpoints (healthy or degraded)",
    "with_tools": "MCP-confirmed endpoints whose tools were listed",
    "oauth_any": "endpoints with OAuth evidence (complete or partial)",
    "bb_mcp_detected": "endpoints whose initialize answer is a non-empty JSON object"
    " (Bloomberry's 'MCP detected')",
    "handshake_confirmed": "endpoints with a Streamable HTTP handshake (server/discover or"
    " initialize)",
    "org_domains": "registrable domains probed, platform hosts excluded (radixia's organisations)",
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline figure.

    For a share, ``numerator``/``denominator`` are counts and ``percent`` is their ratio × 100
    (``None`` when the denominator is 0).  For a statistic (mean, median, total), ``value`` holds
    it, ``denominator`` the number of endpoints it was computed over, ``numerator`` the sum when
    the statistic is a mean (``None`` for a median) and ``percent`` is ``None``.
    """

    metric: str
    label: str
    numerator: float | None
    denominator: int
    denominator_label: str
    percent: float | None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "label": self.label,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "denominator_label": self.denominator_label,
            "percent": self.percent,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One breakdown table: named columns, rows of plain values (str, int, float, bool, None)."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    denominator_label: str | None = None
    denominator: int | None = None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "denominator_label": self.denominator_label,
            "denominator": self.denominator,
            "note": self.note,
            "columns": list(self.columns),
            "rows": [dict(zip(self.columns, row, strict=True)) for row in self.rows],
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """One published figure beside census's: the same data read under the study's definition
    (``as_study``; ``None`` when no endpoint evidence can measure it) and under census's own
    (``as_census``), each with its numerator, denominator and interval, and why they differ."""

    key: str
    figure: str
    study: str
    source: str
    published: Figure
    study_definition: str
    census_definition: str
    as_study: Figure | None
    as_census: Figure
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "figure": self.figure,
            "study": self.study,
            "source": self.source,
            "published": self.published.as_json(),
            "study_definition": self.study_definition,
            "census_definition": self.census_definition,
            "as_study": None if self.as_study is None else self.as_study.as_json(),
            "as_census": self.as_census.as_json(),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run a report describes."""

    id: int
    status: str
    methodology_version: str
    census_version: str
    endpoint_total: int
    observed: int
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    #: The run observed a simulated internet (census.report.schema.SIMULATED_SQL).
    simulated: bool = False

    def as_json(self) -> dict[str, Any]:
        def ts(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "status": self.status,
            "methodology_version": self.methodology_version,
            "census_version": self.census_version,
            "endpoint_total": self.endpoint_total,
            "observed": self.observed,
            "created_at": ts(self.created_at),
            "started_at": ts(self.started_at),
            "finished_at": ts(self.finished_at),
            "simulated": self.simulated,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The whole report of one run."""

    run: RunInfo
    headline: tuple[Figure, ...]
    breakdowns: tuple[Breakdown, ...] = field(default=())
    comparisons: tuple[Comparison, ...] = field(default=())

    def figure(self, metric: str) -> Figure:
        return next(f for f in self.headline if f.metric == metric)

    def breakdown(self, key: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.key == key)

    def comparison(self, key: str) -> Comparison:
        return next(c for c in self.comparisons if c.key == key)

    def as_json(self) -> dict[str, Any]:
        return {
            "simulated": self.run.simulated,
            "run": self.run.as_json(),
            "denominators": DENOMINATORS,
            "headline": [f.as_json() for f in self.headline],
            "breakdowns": [b.as_json() for b in self.breakdowns],
            "comparisons": [c.as_json() for c in self.comparisons],
        }
