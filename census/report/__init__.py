"""census.report: SQL aggregates, typed reports, renderers, exports, diffs and the pandas API.

Public API::

    from census.report import build_report, frames, render_run
    report = build_report(engine, "latest")      # Report: headline figures + breakdowns
    print(to_json(report))                       # also to_markdown / to_csv / to_html
    f = frames()                                 # DataFrames of the latest run (notebooks)
"""

from typing import TYPE_CHECKING, Any

from census.report.build import TREND_METRICS, Trend, build_report, build_trend
from census.report.model import DENOMINATORS, Breakdown, Figure, Report, RunInfo
from census.report.render import (
    FORMATS,
    print_report,
    print_trend,
    to_csv,
    to_html,
    to_json,
    to_markdown,
)
from census.report.run import render_run
from census.report.safety import clean_text, neutralize_cell, unneutralize_cell

if TYPE_CHECKING:
    from census.report.export import EXPORT_FORMATS, ExportResult, export_table
    from census.report.frames import Frames, frames, read_export, run_frames

# pandas and pyarrow load only when a DataFrame or an export is asked for: `census report`
# stays a fast command (the 1M-observation budget is 5 s, interpreter start included).
_LAZY = {
    "EXPORT_FORMATS": "census.report.export",
    "ExportResult": "census.report.export",
    "export_table": "census.report.export",
    "Frames": "census.report.frames",
    "frames": "census.report.frames",
    "read_export": "census.report.frames",
    "run_frames": "census.report.frames",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'census.report' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DENOMINATORS",
    "EXPORT_FORMATS",
    "FORMATS",
    "TREND_METRICS",
    "Breakdown",
    "ExportResult",
    "Figure",
    "Frames",
    "Report",
    "RunInfo",
    "Trend",
    "build_report",
    "build_trend",
    "clean_text",
    "export_table",
    "frames",
    "neutralize_cell",
    "print_report",
    "print_trend",
    "read_export",
    "render_run",
    "run_frames",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
    "unneutralize_cell",
]
