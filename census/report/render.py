"""Renderers: one :class:`~census.report.model.Report` → table (rich), markdown, json, csv, html.

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
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from census.report.build import Trend
from census.report.model import DENOMINATORS, Breakdown, Figure, Report
from census.report.safety import clean_text, neutralize_cell

__all__ = [
    "FORMATS",
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


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def figure_text(f: Figure) -> tuple[str, str]:
    """(value, basis) of one figure, e.g. ("38.7%", "546 / 1,412 MCP endpoints (…)")."""
    population = DENOMINATORS.get(f.denominator_label, f.denominator_label)
    if f.percent is not None:
        return f"{f.percent:.1f}%", f"{_num(f.numerator)} / {_num(f.denominator)} {population}"
    if f.value is None:
        return "n/a", f"0 {population}"
    basis = f"over {_num(f.denominator)} {population}"
    if f.metric == "endpoints_studied":
        basis = f"{_num(f.denominator)} {population}"
    elif f.numerator is not None and f.metric.endswith("_mean"):
        basis = f"{_num(f.numerator)} / {_num(f.denominator)} {population}"
    return _num(f.value), basis


def _cell(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return _num(value)
    return clean_text(_num(value))


# --- terminal --------------------------------------------------------------------------------


def _title(report: Report) -> str:
    r = report.run
    when = r.finished_at or r.started_at or r.created_at
    stamp = when.strftime("%Y-%m-%d %H:%M UTC") if when else "?"
    return (
        f"census run {r.id} ({r.status}, {stamp}, methodology {r.methodology_version}): "
        f"{r.observed:,} of {r.endpoint_total:,} endpoints observed"
    )


def headline_table(report: Report) -> Table:
    table = Table(title=clean_text(_title(report)), title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("numerator / denominator")
    for f in report.headline:
        value, basis = figure_text(f)
        table.add_row(Text(f.label), Text(value), Text(basis))
    return table


def breakdown_table(b: Breakdown) -> Table:
    title = b.title
    if b.denominator is not None and b.denominator_label:
        title += f" — % of {b.denominator:,} {DENOMINATORS.get(b.denominator_label, '')}"
    table = Table(title=clean_text(title), title_justify="left", caption=b.note)
    for i, column in enumerate(b.columns):
        numeric = any(_is_number(row[i]) for row in b.rows)
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in b.rows:
        table.add_row(*(Text(_column_cell(c, v)) for c, v in zip(b.columns, row, strict=True)))
    return table


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _column_cell(column: str, value: Any) -> str:
    if column == "percent" and isinstance(value, int | float):
        return f"{value:.1f}%"
    return _cell(value)


def print_report(report: Report, console: Console, *, breakdowns: bool = True) -> None:
    """The report as rich tables on ``console``."""
    console.print(headline_table(report))
    if breakdowns:
        for b in report.breakdowns:
            console.print(breakdown_table(b))


def print_trend(trend: Trend, console: Console) -> None:
    table = Table(title="Trend over the last runs", title_justify="left")
    table.add_column("metric")
    for run in trend.runs:
        table.add_column(f"run {run}", justify="right")
    if trend.points:
        for i, first in enumerate(trend.points[0]):
            cells = []
            for figures in trend.points:
                cells.append(Text(figure_text(figures[i])[0]))
            table.add_row(Text(first.label), *cells)
    console.print(table)


# --- markdown ----------------------------------------------------------------------------------


def _md_escape(value: str) -> str:
    return clean_text(value).replace("|", "\\|")


def _md_table(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    cols = list(columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| "
        + " | ".join(_md_escape(_column_cell(c, v)) for c, v in zip(cols, row, strict=True))
        + " |"
        for row in rows
    ]
    return lines


def to_markdown(report: Report) -> str:
    lines = [f"# {_md_escape(_title(report))}", ""]
    lines += _md_table(
        ("metric", "value", "numerator / denominator"),
        ((f.label, *figure_text(f)) for f in report.headline),
    )
    for b in report.breakdowns:
        lines += ["", f"## {_md_escape(b.title)}", ""]
        if b.denominator is not None and b.denominator_label:
            pop = DENOMINATORS.get(b.denominator_label, "")
            lines += [f"Percentages of {b.denominator:,} {pop}.", ""]
        lines += _md_table(b.columns, b.rows)
        if b.note:
            lines += ["", f"_{_md_escape(b.note)}_"]
    return "\n".join(lines) + "\n"


# --- json / csv --------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_json(report: Report) -> str:
    """The JSON form: ``run``, ``denominators``, ``headline`` (list of figures), ``breakdowns``."""
    return json.dumps(report.as_json(), indent=2, default=_json_default) + "\n"


def trend_to_json(trend: Trend) -> str:
    return json.dumps(trend.as_json(), indent=2, default=_json_default) + "\n"


def to_csv(report: Report) -> str:
    """A tidy CSV: one row per cell (``section``, ``row``, ``column``, ``value``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("section", "row", "column", "value"))
    for f in report.headline:
        for column, value in f.as_json().items():
            if column != "metric":
                writer.writerow(_safe_row(("headline", f.metric, column, value)))
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
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right}caption{text-align:left;font-weight:bold;padding:.3em 0}
.note{color:#666;font-size:.9em}img{max-width:100%}
"""


def _html_table(columns: Iterable[str], rows: Iterable[Iterable[Any]], caption: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for v in row:
            numeric = isinstance(v, int | float) and not isinstance(v, bool)
            cls = ' class="n"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(_cell(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>"
        + "".join(body)
        + "</table>"
    )


def _chart(title: str, labels: list[str], values: list[float], xlabel: str) -> str:
    """One horizontal bar chart as an embedded PNG ``<img>`` (no file, no network)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(7, 0.4 * max(len(labels), 3) + 1))
    ax = fig.subplots()
    ax.barh(labels[::-1], values[::-1], color="#4c72b0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def _charts(report: Report) -> list[str]:
    charts = []
    by_key = {b.key: b for b in report.breakdowns}
    status: dict[str, int] = {}
    for row in by_key["status"].rows if "status" in by_key else ():
        status[str(row[0])] = status.get(str(row[0]), 0) + int(row[2])
    if status:
        charts.append(
            _chart(
                "Status of all endpoints",
                list(status),
                list(map(float, status.values())),
                "endpoints",
            )
        )
    for key, title in (("auth", "Authorization mix"), ("tools", "Tools per server")):
        b = by_key.get(key)
        if b and b.rows:
            labels = [_cell(r[0]) for r in b.rows]
            values = [float(r[b.columns.index("endpoints")]) for r in b.rows]
            charts.append(_chart(title, labels, values, "endpoints"))
    return charts


def to_html(report: Report, trend: Trend | None = None) -> str:
    """One self-contained HTML page: tables plus charts embedded as base64 PNG."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(_title(report))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(clean_text(_title(report)))}</h1>",
        _html_table(
            ("metric", "value", "numerator / denominator"),
            ((f.label, *figure_text(f)) for f in report.headline),
            "Headline",
        ),
        *_charts(report),
    ]
    for b in report.breakdowns:
        caption = b.title
        if b.denominator is not None and b.denominator_label:
            caption += f" (% of {b.denominator:,} {DENOMINATORS.get(b.denominator_label, '')})"
        parts.append(_html_table(b.columns, b.rows, caption))
        if b.note:
            parts.append(f"<p class='note'>{html.escape(b.note)}</p>")
    if trend is not None and trend.runs:
        cols = ("metric", *(f"run {r}" for r in trend.runs))
        rows = [
            (first.label, *(figure_text(p[i])[0] for p in trend.points))
            for i, first in enumerate(trend.points[0])
        ]
        parts.append(_html_table(cols, rows, "Trend"))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<p class='note'>generated {generated} by census</p></body></html>")
    return "\n".join(parts) + "\n"
