"""The bench's human output and its option checks (no servers)."""

from __future__ import annotations

import subprocess
import sys

from rich.console import Console

from census.bench.cli import render_table


def _side(rate: float, agreement: float | None) -> dict[str, object]:
    return {
        "endpoints": 10,
        "endpoints_per_s": rate,
        "cpu_ms_per_endpoint": 2.5,
        "peak_rss_mb": 100.0,
        "agreement": agreement,
    }


def test_the_table_shows_every_side_and_the_ratios() -> None:
    result = {
        "census": {**_side(40.0, 0.99), "agreement_sdk_columns": 1.0, "writes_per_s": 12000},
        "sdk": _side(20.0, 0.97),
        "bare": _side(80.0, None),
        "ratios": {"throughput_vs_sdk": 2.0, "cpu_vs_bare": 1.0},
    }
    console = Console(record=True, width=200)
    console.print(render_table(result))
    text = console.export_text()
    for expected in ("census", "sdk", "bare", "99.0%", "97.0%", "throughput_vs_sdk 2.0"):
        assert expected in text
    assert "12000 rows/s" in text


def test_an_unknown_mix_is_refused_before_anything_starts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "census.bench", "--mix", "nowhere", "--endpoints", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "--mix must be one of" in done.stderr
