"""The analysis notebook executes, top to bottom, against a crawl of the simulated internet."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.report.conftest import Crawl

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "census-analysis.ipynb"


def test_the_analysis_notebook_executes_against_a_crawl_and_agrees_with_the_report(
    crawl: Crawl, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The kernel is a child process: it finds the database the way `census` does.
    monkeypatch.setenv("DATABASE_URL", crawl.database_url)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"run {crawl.run_id}:" in text
    assert "headline figures agree with the SQL report" in text
    assert f"SIMULATED DATA: run {crawl.run_id}" in text  # the fixture crawls a simulated internet
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # the three-panel figure and the trend
