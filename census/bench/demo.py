"""The end of ``census demo``: how the run compares with what the simulated internet planted.

Two questions a demo user asks and the report alone does not answer: *are the verdicts right?*
(agreement with the manifest's planted cells, :mod:`census.bench.agreement`) and *why does a
demo of N endpoints study fewer?* — discovery reads the simulated internet the way it reads the
real one, from its registry mirrors: an endpoint no mirror lists as active is never found, one
listed twice is one endpoint, and a listing whose URL is invalid, templated, local or opted out
is rejected.  This module counts each of those from the run and the discovery reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.engine import Engine

from census.bench.agreement import CENSUS_COLUMNS, Agreement, agreement, read_manifest

__all__ = ["DemoCheck", "demo_check", "print_demo_check"]


@dataclass(frozen=True, slots=True)
class DemoCheck:
    """The run against its simulated internet."""

    planted: int  # endpoints the simulated internet serves (manifest rows)
    studied: int  # endpoints the run observed
    studied_planted: int  # of those, endpoints of the manifest
    rejected: dict[str, int]  # listings rejected at discovery, by reason
    listings: int  # accepted listings (URL mentions) over every mirror read
    mirrors: int  # discovery sources read
    agreement: Agreement


def _rows(engine: Engine, run_id: int) -> Iterable[tuple[str, dict[str, Any]]]:
    from census.report.frames import iter_batches

    for df in iter_batches(engine, "observations", run_id):
        plain = df.astype(object).where(df.notna(), None)
        for row in plain.to_dict("records"):
            yield str(row["url"]), row


def demo_check(engine: Engine, run_id: int, folder: Path, outcomes: Iterable[Any]) -> DemoCheck:
    """Compare run ``run_id`` with the manifest in ``folder`` (``outcomes``: the discovery
    reads of the demo, :class:`census.discovery.cli.SourceOutcome`)."""
    manifest = read_manifest(folder / "manifest.csv")
    rows = list(_rows(engine, run_id))
    rejected: Counter[str] = Counter()
    listings = mirrors = 0
    for outcome in outcomes:
        rejected.update(outcome.result.rejected)
        listings += int(outcome.result.occurrences)
        mirrors += 1
    return DemoCheck(
        planted=len(manifest),
        studied=len(rows),
        studied_planted=sum(1 for url, _ in rows if url in manifest),
        rejected=dict(rejected.most_common()),
        listings=listings,
        mirrors=mirrors,
        agreement=agreement(manifest, rows, CENSUS_COLUMNS),
    )


def print_demo_check(check: DemoCheck, console: Console) -> None:
    """Why the demo studied the number it did, then its agreement with the planted answers."""
    unlisted = check.planted - check.studied_planted
    extra = check.studied - check.studied_planted
    rejected = sum(check.rejected.values())
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in check.rejected.items())
    console.print(
        f"studied {check.studied:,} endpoints of a simulated internet serving"
        f" {check.planted:,}: discovery reads its registry mirrors as it reads the real ones."
        f" {check.listings:,} accepted listings in {check.mirrors} mirrors name"
        f" {check.studied:,} distinct endpoints; {unlisted:,} planted endpoints are listed as"
        f" active by no mirror (or only under a rejected URL); {rejected:,} listings were"
        f" rejected{f' ({reasons})' if reasons else ''}"
        + (
            f"; {extra:,} studied URLs are not planted endpoints (e.g. a registry's older"
            " version of a server)"
            if extra
            else ""
        )
        + ".",
        highlight=False,
    )
    a = check.agreement
    if a.share is None:
        console.print("agreement with the planted answers: nothing to compare", highlight=False)
        return
    console.print(
        f"agreement with the planted answers: {100 * a.share:.1f}% of {a.checked:,} planted"
        f" cells ({a.agreed:,} agree) over the {check.studied_planted:,} endpoints studied",
        highlight=False,
    )
    off = [
        f"{column} {agreed:,}/{n:,}" for column, (agreed, n) in a.per_column.items() if agreed < n
    ]
    if off:
        console.print("columns below 100%: " + ", ".join(off), highlight=False)
