"""Renderers: one :class:`~census.report.model.Report` → table (rich), markdown, json, csv, html.

Every format carries the same content in the same order: what the run was (date, versions,
sources, and a notice when the data is simulated), the headline with 95% intervals and the
published figure beside each comparable share, the comparison with published studies, then the
breakdowns.  HTML adds charts.  Numbers go through one format (:mod:`census.report.stats`):
percentages with one decimal and a % sign, counts with thousands separators.

Every string that may have come from a remote server passes :func:`clean_text` before a
terminal sees it, :func:`html.escape` before HTML, :func:`neutralize_cell` before CSV.  Cells are
built as :class:`rich.text.Text`, never as markup, so a server named ``[red]x`` stays literal.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import textwrap
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from census.report.build import Trend
from census.report.model import DENOMINATORS, Breakdown, Comparison, Figure, Report
from census.report.safety import clean_text, neutralize_cell
from census.report.stats import fmt_count, fmt_number, fmt_percent, fmt_share, percent

__all__ = [
    "FORMATS",
    "SIMULATED_NOTICE",
    "figure_text",
    "print_report",
    "print_trend",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
    "trend_to_json",
]

FORMATS = ("table", "markdown", "json", "csv", "html")

SIMULATED_NOTICE = (
    "SIMULATED DATA: this run observed a simulated MCP internet (census's testbed on loopback),"
    " not real servers. Its figures test census; they say nothing about the real ecosystem."
)

#: An empty table's body, in every format.
NONE = "none"

#: Breakdown columns shown inside the share column they belong to ("38.7% (36.2–41.2)").
_CI = ("ci_low", "ci_high")


def _population(label: str) -> str:
    return DENOMINATORS.get(label, label)


def figure_text(f: Figure) -> tuple[str, str]:
    """(value, basis) of one figure, e.g. ("38.7% (36.2–41.2)", "546 / 1,412 MCP endpoints …")."""
    population = _population(f.denominator_label)
    if f.percent is not None:
        basis = f"{fmt_number(f.numerator)} / {fmt_count(f.denominator)} {population}"
        return fmt_share(f.percent, f.ci_low, f.ci_high), basis
    if f.value is None:
        return "n/a", f"0 {population}"
    basis = f"over {fmt_count(f.denominator)} {population}"
    if f.metric == "endpoints_studied":
        basis = f"{fmt_count(f.denominator)} {population}"
    elif f.numerator is not None and f.metric.endswith("_mean"):
        basis = f"{fmt_number(f.numerator)} / {fmt_count(f.denominator)} {population}"
    return fmt_number(f.value), basis


def _cell(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return fmt_number(value)
    return clean_text(fmt_number(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- the shared document: every format renders these same rows ------------------------------


def _when(report: Report) -> str:
    r = report.run
    when = r.finished_at or r.started_at or r.created_at
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else "?"


def _title(report: Report) -> str:
    r = report.run
    prefix = "SIMULATED DATA — " if r.simulated else ""
    return (
        f"{prefix}census run {r.id} ({r.status}, {_when(report)}, methodology "
        f"{r.methodology_version}): {fmt_count(r.observed)} of {fmt_count(r.endpoint_total)}"
        " endpoints observed"
    )


def _about(report: Report) -> list[tuple[str, str]]:
    """What the run was: the lines that open every format."""
    r = report.run

    def stamp(value: datetime | None) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC") if value else "?"

    rows = [
        ("run", f"{r.id} ({r.status})"),
        ("run date", f"started {stamp(r.started_at)}, finished {stamp(r.finished_at)}"),
        ("methodology version", r.methodology_version),
        ("census version", r.census_version),
        (
            "endpoints",
            f"{fmt_count(r.observed)} observed of {fmt_count(r.endpoint_total)} in the run",
        ),
        ("sources", _sources_text(report)),
        ("data", "SIMULATED (a simulated internet on loopback)" if r.simulated else "real"),
        (
            "intervals",
            "every share is followed by its 95% Wilson score interval: 387 of 1,000 is"
            " 38.7% (35.7–41.8)",
        ),
    ]
    return rows


def _sources_text(report: Report) -> str:
    b = next((x for x in report.breakdowns if x.key == "sources"), None)
    if b is None or not b.rows:
        return NONE
    i_name, i_n = b.columns.index("source"), b.columns.index("endpoints")
    return ", ".join(f"{clean_text(str(r[i_name]))} ({fmt_number(r[i_n])})" for r in b.rows)


def _study_short(c: Comparison) -> str:
    return c.study.split(",")[0].split(" (")[0]


def _published_by_metric(report: Report) -> dict[str, Comparison]:
    return {c.as_census.metric: c for c in report.comparisons}


def _published_cell(c: Comparison | None) -> str:
    if c is None:
        return ""
    return f"{fmt_percent(c.published.percent)} ({_study_short(c)})"


_HEADLINE_COLUMNS = ("metric", "value (95% CI)", "numerator / denominator", "published study")


def _headline_rows(report: Report) -> list[tuple[str, str, str, str]]:
    published = _published_by_metric(report)
    return [
        (f.label, *figure_text(f), _published_cell(published.get(f.metric)))
        for f in report.headline
    ]


def _share_basis(f: Figure | None) -> str:
    if f is None:
        return "not measurable on endpoints"
    return (
        f"{fmt_share(f.percent, f.ci_low, f.ci_high)} = {fmt_number(f.numerator)} / "
        f"{fmt_count(f.denominator)} {_population(f.denominator_label)}"
    )


_COMPARISON_COLUMNS = (
    "figure",
    "published",
    "census data, study's definition",
    "census data, census's definition",
    "why they differ",
)


def _comparison_rows(report: Report) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for c in report.comparisons:
        p = c.published
        published = (
            f"{fmt_share(p.percent, p.ci_low, p.ci_high)} of {fmt_count(p.denominator)} "
            f"{p.denominator_label} — {_study_short(c)}"
        )
        rows.append(
            (
                c.figure,
                published,
                _share_basis(c.as_study),
                f"{c.census_definition}: {_share_basis(c.as_census)}",
                c.reason,
            )
        )
    return rows


def _definition_rows(report: Report) -> list[tuple[str, str, str]]:
    return [(c.figure, c.study_definition, f"{c.study} — {c.source}") for c in report.comparisons]


def _display(b: Breakdown) -> tuple[list[str], list[list[str]], list[bool]]:
    """A breakdown as shown: each share column holds its interval; ``(columns, rows, numeric)``."""
    cols = list(b.columns)
    ci = {cols.index(c) for c in _CI if c in cols}
    share = cols.index("ci_low") - 1 if "ci_low" in cols else None
    shown = [i for i in range(len(cols)) if i not in ci]
    rows: list[list[str]] = []
    for row in b.rows:
        cells = []
        for i in shown:
            value = row[i]
            if i == share:
                if value is None and cols[i] == "pass_rate":
                    cells.append("not scored")
                else:
                    low, high = row[cols.index("ci_low")], row[cols.index("ci_high")]
                    cells.append(fmt_share(value, low, high))
            elif cols[i] in ("percent", "pass_rate") and _is_number(value):
                cells.append(fmt_percent(value))
            else:
                cells.append(_cell(value))
        rows.append(cells)
    numeric = [i == share or any(_is_number(r[i]) for r in b.rows) for i in shown]
    names = [f"{cols[i]} (95% CI)" if i == share else cols[i] for i in shown]
    return names, rows, numeric


def _breakdown_title(b: Breakdown) -> str:
    title = b.title
    if b.denominator is not None and b.denominator_label:
        title += f" — % of {fmt_count(b.denominator)} {_population(b.denominator_label)}"
    return title


# --- terminal --------------------------------------------------------------------------------


def _rich_table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], caption: str | None = None
) -> Table:
    table = Table(title=clean_text(title), title_justify="left", caption=caption)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(clean_text(c)) for c in row))
    return table


def headline_table(report: Report) -> Table:
    table = Table(title=clean_text(_title(report)), title_justify="left")
    for i, column in enumerate(_HEADLINE_COLUMNS):
        table.add_column(column, justify="right" if i == 1 else "left")
    for row in _headline_rows(report):
        table.add_row(*(Text(clean_text(c)) for c in row))
    return table


def breakdown_table(b: Breakdown) -> Table:
    names, rows, numeric = _display(b)
    table = Table(title=clean_text(_breakdown_title(b)), title_justify="left", caption=b.note)
    for name, right in zip(names, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(Text(c) for c in row))
    return table


def print_report(report: Report, console: Console, *, breakdowns: bool = True) -> None:
    """The report as rich tables on ``console``."""
    if report.run.simulated:
        console.print(Text(SIMULATED_NOTICE, style="bold white on red"))
    console.print(_rich_table("About this run", ("", ""), _about(report)))
    console.print(headline_table(report))
    if report.comparisons:
        console.print(
            _rich_table(
                "Published figures side by side",
                _COMPARISON_COLUMNS,
                _comparison_rows(report),
            )
        )
        console.print(
            _rich_table(
                "The studies' definitions",
                ("figure", "study's definition", "source"),
                _definition_rows(report),
            )
        )
    if breakdowns:
        for b in report.breakdowns:
            if b.rows:
                console.print(breakdown_table(b))
            else:
                console.print(Text(clean_text(_breakdown_title(b)), style="italic"))
                console.print(NONE)


def _trend_rows(trend: Trend) -> list[list[str]]:
    if not trend.points:
        return []
    return [
        [first.label, *(figure_text(figures[i])[0] for figures in trend.points)]
        for i, first in enumerate(trend.points[0])
    ]


def print_trend(trend: Trend, console: Console) -> None:
    table = Table(title="Trend over the last runs", title_justify="left")
    table.add_column("metric")
    for run in trend.runs:
        table.add_column(f"run {run}", justify="right")
    for row in _trend_rows(trend):
        table.add_row(*(Text(c) for c in row))
    console.print(table)


# --- markdown ----------------------------------------------------------------------------------


#: Markdown's inline syntax characters, escaped with a backslash (CommonMark allows it before any
#: ASCII punctuation): code spans, emphasis, links and images, table pipes, strikethrough,
#: heading closers.  `_` only where it could open or close emphasis (not inside a word, so
#: vocabulary values such as ``auth_required`` stay readable in the raw text).
_MD_SYNTAX = re.compile(r"[\\`*\[\]|~#]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
#: HTML's own characters as entities: no cell can open a tag (``<script>``, ``<img onerror>``)
#: or spell an entity that a renderer would turn back into one.
_MD_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _md_escape(value: str) -> str:
    """Remote (or any) text as literal Markdown: what a renderer shows is exactly the text, one
    line, with no live HTML, link, emphasis or table break (the Markdown report's one escape)."""
    text = clean_text(value).translate(_MD_HTML)
    return _MD_SYNTAX.sub(lambda m: "\\" + m.group(), text)


def _md_table(columns: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    cols = list(columns)
    body = ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    if not body:
        return [NONE]
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols), *body]


def to_markdown(report: Report) -> str:
    lines = [f"# {_md_escape(_title(report))}", ""]
    if report.run.simulated:
        lines += [f"> **{_md_escape(SIMULATED_NOTICE)}**", ""]
    lines += [f"- **{name}:** {_md_escape(value)}" for name, value in _about(report)]
    lines += ["", "## Headline", ""]
    lines += _md_table(_HEADLINE_COLUMNS, _headline_rows(report))
    if report.comparisons:
        lines += ["", "## Published figures side by side", ""]
        lines += _md_table(_COMPARISON_COLUMNS, _comparison_rows(report))
        lines += ["", "### The studies' definitions", ""]
        lines += _md_table(("figure", "study's definition", "source"), _definition_rows(report))
    for b in report.breakdowns:
        lines += ["", f"## {_md_escape(b.title)}", ""]
        if b.denominator is not None and b.denominator_label:
            pop = _population(b.denominator_label)
            lines += [f"Percentages of {fmt_count(b.denominator)} {pop}.", ""]
        names, rows, _ = _display(b)
        lines += _md_table(names, rows)
        if b.note:
            lines += ["", f"_{_md_escape(b.note)}_"]
    return "\n".join(lines) + "\n"


# --- json / csv --------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_json(report: Report) -> str:
    """The JSON form: ``run``, ``denominators``, ``headline`` (list of figures, each share with
    ``ci_low``/``ci_high``), ``breakdowns`` and ``comparisons``."""
    return json.dumps(report.as_json(), indent=2, default=_json_default) + "\n"


def trend_to_json(trend: Trend) -> str:
    return json.dumps(trend.as_json(), indent=2, default=_json_default) + "\n"


def _flat(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flat(f"{prefix}.{key}" if prefix else key, inner)
    else:
        yield prefix, value


def to_csv(report: Report) -> str:
    """A tidy CSV: one row per cell (``section``, ``row``, ``column``, ``value``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("section", "row", "column", "value"))
    for column, value in report.run.as_json().items():
        writer.writerow(_safe_row(("run", report.run.id, column, value)))
    for f in report.headline:
        for column, value in f.as_json().items():
            if column != "metric":
                writer.writerow(_safe_row(("headline", f.metric, column, value)))
    for c in report.comparisons:
        for column, value in _flat("", c.as_json()):
            if column != "key":
                writer.writerow(_safe_row(("comparisons", c.key, column, value)))
    for b in report.breakdowns:
        for i, row in enumerate(b.rows):
            for column, value in zip(b.columns, row, strict=True):
                writer.writerow(_safe_row((b.key, i, column, value)))
    return buf.getvalue()


def _safe_row(cells: tuple[Any, ...]) -> list[str]:
    out = []
    for v in cells:
        if v is None:
            out.append("")
        elif isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, int | float):
            out.append(str(v))
        else:
            out.append(neutralize_cell(str(v)))
    return out


# --- html --------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}caption{text-align:left;font-weight:bold;padding:.3em 0}
.note{color:#666;font-size:.9em}img{max-width:100%;height:auto}
.simulated{background:#b00020;color:#fff;font-weight:bold;font-size:1.2em;padding:1em;
 border:4px solid #600;margin:1em 0}
dl.about{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dl.about dt{font-weight:bold}dl.about dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(30em,1fr));gap:1em}
figure{margin:0}
"""


def _html_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str, numeric: Sequence[bool]
) -> str:
    if not rows:
        return f"<p><strong>{html.escape(caption)}</strong></p><p class='none'>{NONE}</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for value, right in zip(row, numeric, strict=True):
            cls = ' class="n"' if right else ""
            cells.append(f"<td{cls}>{html.escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>"
        + "".join(body)
        + "</table>"
    )


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    from matplotlib.figure import Figure as MplFigure

    return MplFigure


def _img(title: str, data: str) -> str:
    alt = html.escape(clean_text(title))
    return f'<figure><img class="chart" alt="{alt}" src="data:image/png;base64,{data}"></figure>'


def _bar_chart(
    title: str, labels: list[str], counts: list[int], denominator: int | None, unit: str
) -> str:
    """A horizontal bar chart with a value label on every bar: the count, and its share of
    ``denominator`` (named in the title) when there is one."""
    mpl_figure = _figure()
    fig = mpl_figure(figsize=(7, 0.42 * max(len(labels), 3) + 1.2))
    ax = fig.subplots()
    y = list(range(len(labels)))[::-1]
    bars = ax.barh(y, counts, color="#4c72b0")
    ax.set_yticks(y, [clean_text(label)[:40] for label in labels])
    texts = [
        f"{fmt_count(c)} ({fmt_percent(percent(c, denominator))})" if denominator else fmt_count(c)
        for c in counts
    ]
    ax.bar_label(bars, texts, padding=3, fontsize=9)
    ax.set_xlim(0, max(counts or [1]) * 1.35 or 1)
    ax.set_title(textwrap.fill(clean_text(title), 62), fontsize=11)
    ax.set_xlabel(unit)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _img(title, _png(fig))


def _column(b: Breakdown, name: str) -> list[Any]:
    i = b.columns.index(name)
    return [r[i] for r in b.rows]


def _label(value: Any) -> str:
    return "not determined" if value is None else fmt_number(value)


def _summed(
    b: Breakdown, key: str, count: str = "endpoints", ordered: bool = False
) -> tuple[list[str], list[int]]:
    """Counts of ``b`` summed by one column: largest first, or in the table's own order
    (``ordered``: buckets that have an order of their own)."""
    totals: dict[str, int] = {}
    for k, n in zip(_column(b, key), _column(b, count), strict=True):
        totals[_label(k)] = totals.get(_label(k), 0) + int(n or 0)
    items = list(totals.items()) if ordered else sorted(totals.items(), key=lambda kv: -kv[1])
    return [k for k, _ in items], [v for _, v in items]


def _n(b: Breakdown) -> str:
    den = b.denominator or 0
    return f"(n = {fmt_count(den)} {_population(b.denominator_label or '')})"


def _charts(report: Report) -> list[str]:
    by_key = {b.key: b for b in report.breakdowns}
    charts: list[str] = []

    def bars(key: str, column: str, title: str, ordered: bool = False) -> None:
        b = by_key.get(key)
        if b is None or not b.rows:
            return
        labels, counts = _summed(b, column, ordered=ordered)
        charts.append(_bar_chart(f"{title} {_n(b)}", labels, counts, b.denominator, "endpoints"))

    bars("status", "status", "Status")
    status = by_key.get("status")
    if status is not None:
        failing = [
            (str(r), int(n))
            for r, n in zip(
                _column(status, "failure_reason"), _column(status, "endpoints"), strict=True
            )
            if r is not None
        ]
        if failing:
            totals: dict[str, int] = {}
            for reason, n in failing:
                totals[reason] = totals.get(reason, 0) + n
            ordered = sorted(totals.items(), key=lambda kv: -kv[1])
            den = sum(totals.values())
            charts.append(
                _bar_chart(
                    f"Failure reasons (n = {fmt_count(den)} endpoints not healthy, with a reason)",
                    [k for k, _ in ordered],
                    [v for _, v in ordered],
                    den,
                    "endpoints",
                )
            )
    bars("auth", "auth_class", "Authorization")
    auth = by_key.get("auth")
    if auth is not None and auth.rows:
        oauth = [r for r in auth.rows if r[0] in ("oauth", "oauth_partial")]
        den = sum(int(r[auth.columns.index("endpoints")]) for r in oauth)
        if den:
            details = ("oauth_dcr", "oauth_cimd", "oauth_pkce_s256")
            counts = [sum(int(r[auth.columns.index(d)]) for r in oauth) for d in details]
            charts.append(
                _bar_chart(
                    f"OAuth details (n = {fmt_count(den)} endpoints with OAuth evidence)",
                    ["dynamic client registration", "client ID metadata", "PKCE S256"],
                    counts,
                    den,
                    "endpoints",
                )
            )
    bars("cors", "cors_class", "CORS class")
    bars("cors", "origin_validated", "Foreign Origin refused (origin_validated)")
    bars("rate_limit", "rate_limit_class", "Rate limiting")
    bars("era", "era", "Protocol era")
    bars("era", "protocol_version", "Protocol version")
    bars("tools", "tools", "Tools per server", ordered=True)
    tokens = by_key.get("top_tokens")
    if tokens is not None and tokens.rows:
        names = [
            clean_text(str(s or u))[:40]
            for s, u in zip(_column(tokens, "server_name"), _column(tokens, "url"), strict=True)
        ]
        values = [int(v) for v in _column(tokens, "tool_tokens")]
        charts.append(
            _bar_chart(
                f"Token cost of tool definitions, top {len(values)} servers"
                f" (of n = {fmt_count(report.figure('tool_tokens_mean').denominator)}"
                " with tools listed)",
                names,
                values,
                None,
                "tokens (o200k_base)",
            )
        )
    bars("tls", "tls", "TLS")
    return charts


def _trend_chart(trend: Trend) -> str | None:
    """Every trend share over the runs, with its 95% interval as error bars; each point is
    labelled with its value, the legend gives the latest share with its interval."""
    if len(trend.runs) < 2:
        return None
    mpl_figure = _figure()
    fig = mpl_figure(figsize=(10, 4.8))
    ax = fig.subplots()
    drawn = 0
    for i, first in enumerate(trend.points[0]):
        series = [p[i] for p in trend.points]
        if any(f.percent is None for f in series):
            continue
        # A small sideways offset per series keeps overlapping intervals apart.
        x = [j + 0.04 * (drawn - 3) for j in range(len(series))]
        ys = [float(f.percent or 0) for f in series]
        low = [y - (y if f.ci_low is None else f.ci_low) for y, f in zip(ys, series, strict=True)]
        high = [
            (y if f.ci_high is None else f.ci_high) - y for y, f in zip(ys, series, strict=True)
        ]
        last = series[-1]
        label = f"{clean_text(first.label)}: {fmt_share(last.percent, last.ci_low, last.ci_high)}"
        ax.errorbar(x, ys, yerr=[low, high], marker="o", capsize=3, alpha=0.85, label=label)
        for xi, y in zip(x, ys, strict=True):
            ax.annotate(
                fmt_percent(y), (xi, y), textcoords="offset points", xytext=(4, 3), fontsize=7
            )
        drawn += 1
    ax.set_xticks(range(len(trend.runs)), [f"run {r}" for r in trend.runs])
    ax.set_ylabel("percent of each share's denominator")
    dens = ", ".join(fmt_count(p[0].denominator) for p in trend.points)
    title = f"Trend of key shares, runs {trend.runs[0]}–{trend.runs[-1]} (n = {dens} endpoints)"
    ax.set_title(textwrap.fill(title, 80), fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return _img(title, _png(fig))


def to_html(report: Report, trend: Trend | None = None) -> str:
    """One self-contained HTML page: about, headline, comparisons, charts (embedded PNG),
    breakdown tables, trend.  No script, no external resource."""
    title = _title(report)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(clean_text(title))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(clean_text(title))}</h1>",
    ]
    if report.run.simulated:
        parts.append(f"<div class='simulated' role='alert'>{html.escape(SIMULATED_NOTICE)}</div>")
    parts.append(
        "<dl class='about'>"
        + "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(clean_text(v))}</dd>"
            for k, v in _about(report)
        )
        + "</dl>"
    )
    parts.append("<h2>Headline</h2>")
    parts.append(
        _html_table(
            _HEADLINE_COLUMNS, _headline_rows(report), "Headline", (False, True, False, False)
        )
    )
    if report.comparisons:
        parts.append("<h2>Published figures side by side</h2>")
        parts.append(
            _html_table(
                _COMPARISON_COLUMNS,
                _comparison_rows(report),
                "Published figures, and census's data under both definitions",
                (False,) * len(_COMPARISON_COLUMNS),
            )
        )
        parts.append(
            _html_table(
                ("figure", "study's definition", "source"),
                _definition_rows(report),
                "The studies' definitions",
                (False, False, False),
            )
        )
    charts = _charts(report)
    trend_chart = _trend_chart(trend) if trend is not None else None
    if trend_chart:
        charts.append(trend_chart)
    if charts:
        parts.append("<h2>Charts</h2><div class='charts'>" + "".join(charts) + "</div>")
    parts.append("<h2>Breakdowns</h2>")
    for b in report.breakdowns:
        names, rows, numeric = _display(b)
        parts.append(_html_table(names, rows, _breakdown_title(b), numeric))
        if b.note:
            parts.append(f"<p class='note'>{html.escape(b.note)}</p>")
    if trend is not None and trend.runs:
        cols = ["metric", *(f"run {r}" for r in trend.runs)]
        parts.append(
            _html_table(cols, _trend_rows(trend), "Trend", [False] + [True] * len(trend.runs))
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<p class='note'>generated {generated} by census</p></body></html>")
    return "\n".join(parts) + "\n"
