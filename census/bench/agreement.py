"""Agreement with the simulated internet's ground truth: the share of planted manifest cells a
side's observations reproduce, over the columns that side can determine.

A cell is one (URL, column) of the manifest; ``*`` cells (values that depend on the prober's own
caps) are not planted and are not counted.  An observation missing for a URL counts every one of
its cells as a disagreement.  A URL may appear several times in a run (the bench repeats the
testbed's endpoints to reach large counts): every observation is compared.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from census.testbed.expect import PLANTED_COLUMNS

__all__ = [
    "CENSUS_COLUMNS",
    "SDK_COLUMNS",
    "Agreement",
    "agreement",
    "cell",
    "read_manifest",
]

#: Every planted column of the manifest (its identity column ``url`` and ``profile`` aside).
CENSUS_COLUMNS: tuple[str, ...] = PLANTED_COLUMNS

#: What an SDK prober (connect, list tools) can say about an endpoint.
SDK_COLUMNS: tuple[str, ...] = (
    "status",
    "transport",
    "protocol_version",
    "server_name",
    "server_version",
    "tool_count",
)


def cell(value: Any) -> str:
    """A value as the manifest writes it: empty for None, lower-case booleans, text otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_manifest(path: Path) -> dict[str, dict[str, str]]:
    """``manifest.csv`` as {url: row}."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["url"]: row for row in csv.DictReader(f)}


@dataclass(frozen=True, slots=True)
class Agreement:
    """Cells compared and agreed, in total and per column."""

    checked: int
    agreed: int
    per_column: dict[str, tuple[int, int]] = field(default_factory=dict)  # column -> (agreed, n)

    @property
    def share(self) -> float | None:
        return self.agreed / self.checked if self.checked else None


def agreement(
    manifest: Mapping[str, Mapping[str, str]],
    observations: Iterable[tuple[str, Mapping[str, Any] | None]],
    columns: Sequence[str],
) -> Agreement:
    """Compare each (url, row) observation with the manifest over ``columns``.

    URLs absent from the manifest are ignored (nothing was planted there).
    """
    checked: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    for url, row in observations:
        expected = manifest.get(url)
        if expected is None:
            continue
        for column in columns:
            want = expected.get(column, "")
            if want == "*":
                continue
            checked[column] += 1
            if row is not None and cell(row.get(column)) == want:
                agreed[column] += 1
    return Agreement(
        checked=sum(checked.values()),
        agreed=sum(agreed.values()),
        per_column={c: (agreed[c], checked[c]) for c in columns if checked[c]},
    )
