"""``METHODOLOGY.md`` of a release, generated from the vocabulary and the report's definitions.

Nothing here is written by hand that the code also defines: the columns and their meanings come
from :mod:`census.report.schema` (``DESCRIPTIONS``, ``VALUE_DESCRIPTIONS``), the closed sets from
:mod:`census.vocabulary`, the denominators from :mod:`census.report.model`, each headline share's
definition from the report's own share table, and the change rule from
:mod:`census.report.diff` — so the published methodology cannot drift from what was computed.
"""

from __future__ import annotations

from typing import Any

from census.report import queries
from census.report.diff import DEBOUNCE_RULE
from census.report.model import DENOMINATORS, Report
from census.report.schema import DESCRIPTIONS, TABLES, VALUE_DESCRIPTIONS
from census.vocabulary import CLOSED_COLUMNS, VERDICT_RULE

__all__ = ["headline_definitions", "methodology_markdown"]

#: Statistics of the headline that are not shares (their rule in words).
_STATISTICS = {
    "endpoints_studied": "every endpoint observed in the run",
    "failure_rate": "endpoints of `probed` whose `status` is `unreachable`, `http_error` or"
    " `not_mcp` and that are not `flapping` (confirmed failures; see the verdict rule)",
    "flapping": "endpoints of `probed` whose two attempts had different statuses (`flapping`)",
    "tools_over_30": "share of `with_tools` endpoints listing more than 30 tools",
    "tools_mean": "mean `tool_count` over `with_tools` endpoints",
    "tools_median": "median `tool_count` over `with_tools` endpoints",
    "tool_tokens_mean": "mean `tool_tokens` over `with_tools` endpoints with a token count",
    "tool_tokens_median": "median `tool_tokens` over `with_tools` endpoints with a token count",
    "tool_tokens_total": "sum of `tool_tokens` over `with_tools` endpoints",
}


def headline_definitions() -> dict[str, str]:
    """Each headline metric's rule in words: numerator, values and denominator."""
    out = dict(_STATISTICS)
    shares: tuple[tuple[str, str, str, str, tuple[Any, ...]], ...] = getattr(queries, "_SHARES", ())
    for metric, _label, population, column, values in shares:
        listed = ", ".join(f"`{v}`" for v in values)
        out[metric] = f"endpoints of `{population}` whose `{column}` is {listed}"
    return out


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def methodology_markdown(report: Report, notice: str | None = None) -> str:
    """The release's methodology: versions, populations, headline rules, vocabulary, files."""
    run = report.run
    lines = [f"# Methodology of census run {run.id}", ""]
    if notice:
        lines += [f"> **{notice}**", ""]
    lines += [
        f"- methodology version: `{run.methodology_version}`",
        f"- census version: `{run.census_version}`",
        f"- endpoints observed: {run.observed:,} (one observation per endpoint)",
        "",
        "Every share is a numerator over a named denominator, with its 95% Wilson score"
        ' interval (`ci_low`, `ci_high` in `summary.json`). An empty cell means "not'
        ' determinable for this endpoint", never zero or false.',
        "",
        "## Denominators",
        "",
        *_table(("name", "population"), [(f"`{k}`", v) for k, v in DENOMINATORS.items()]),
        "## Headline figures",
        "",
    ]
    definitions = headline_definitions()
    lines += _table(
        ("metric", "label", "denominator", "definition"),
        [
            (f"`{f.metric}`", f.label, f"`{f.denominator_label}`", definitions.get(f.metric, ""))
            for f in report.headline
        ],
    )
    lines += [
        "## Changes between runs",
        "",
        f"Debounced: {DEBOUNCE_RULE}. The confirmed value of an endpoint at a run is the value"
        " it had in the latest two consecutive complete runs that agreed (`census diff --raw`"
        " shows single-run changes).",
        "",
        "## Confirmation within a run",
        "",
        f"{VERDICT_RULE}",
        "",
        "## Closed vocabularies",
        "",
    ]
    for column, values in CLOSED_COLUMNS.items():
        meaning = VALUE_DESCRIPTIONS.get(column, {})
        lines += [f"### `{column}`", "", DESCRIPTIONS.get(column, ""), ""]
        lines += _table(("value", "meaning"), [(f"`{v}`", meaning.get(str(v), "")) for v in values])
    lines += ["## Files", ""]
    for name, spec in TABLES.items():
        if name not in ("observations", "endpoints", "tools", "listings"):
            continue
        lines += [f"### `data/{name}.csv` and `data/{name}.parquet`", ""]
        lines += _table(
            ("column", "meaning"), [(f"`{c}`", DESCRIPTIONS.get(c, "")) for c in spec.columns]
        )
    lines += [
        "CSV files are UTF-8 with CRLF line ends (RFC 4180); a text cell that a spreadsheet"
        " would evaluate (starting with `=`, `+`, `-`, `@`, tab or CR) or that starts with `'`"
        " is prefixed with one `'` (`census.report.read_export` removes it). Booleans are"
        " `true`/`false`; times are ISO 8601 with a UTC offset. Parquet files carry the same"
        " columns with native types, and their key-value metadata says `simulated`.",
        "",
        "`datapackage.json` describes every file (a Frictionless Data Package); `SHA256SUMS`"
        " holds the SHA-256 of every file (`sha256sum -c SHA256SUMS`).",
        "",
    ]
    return "\n".join(lines)
