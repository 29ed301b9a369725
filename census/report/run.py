"""The headline report printed at the end of ``census demo`` (called by census/crawl/cli.py)."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.engine import Engine

from census.report.build import build_report
from census.report.render import breakdown_table, headline_table

__all__ = ["DEMO_BREAKDOWNS", "render_run"]

#: The breakdowns a demo shows under the headline (``census report`` shows them all).
DEMO_BREAKDOWNS = ("status", "era", "auth", "tools")


def render_run(engine: Engine, run_id: int, console: Console) -> None:
    """Print the headline table and the main breakdowns of ``run_id`` on ``console``."""
    report = build_report(engine, run_id)
    console.print(headline_table(report))
    for key in DEMO_BREAKDOWNS:
        console.print(breakdown_table(report.breakdown(key)))
    console.print(f"all breakdowns: census report --run {run_id} (or --format html --out FILE)")
