"""`census bench` end to end: a served simulated internet, three sides in their own processes.

No speed assertions here (speed goals live in the bench's report): the shape, sane numbers, and
census's agreement being exactly what the agreement function computes from its observations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from census.bench.agreement import CENSUS_COLUMNS, agreement, read_manifest
from census.bench.measure import read_results

SIDE_KEYS = {"endpoints_per_s", "cpu_ms_per_endpoint", "peak_rss_mb", "agreement"}


def _bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "census.bench", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_bench_json_reports_three_sides_and_their_ratios(tmp_path: Path) -> None:
    done = _bench(
        "--endpoints", "150", "--concurrency", "100", "--json", "--work-dir", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)  # exactly one object on stdout
    assert set(result) == {"census", "sdk", "bare", "ratios"}
    for side in ("census", "sdk", "bare"):
        numbers = result[side]
        assert set(numbers) >= SIDE_KEYS
        assert numbers["endpoints"] == 150
        assert numbers["endpoints_per_s"] > 0
        assert numbers["cpu_ms_per_endpoint"] > 0
        assert numbers["peak_rss_mb"] > 0
    for side in ("census", "sdk"):
        assert 0.0 <= result[side]["agreement"] <= 1.0
    assert result["bare"]["agreement"] is None
    ratios = result["ratios"]
    assert ratios["throughput_vs_sdk"] == pytest.approx(
        result["census"]["endpoints_per_s"] / result["sdk"]["endpoints_per_s"], rel=0.01
    )
    assert ratios["cpu_vs_bare"] == pytest.approx(
        result["census"]["cpu_ms_per_endpoint"] / result["bare"]["cpu_ms_per_endpoint"], rel=0.01
    )

    manifest = read_manifest(tmp_path / "testbed" / "manifest.csv")
    rows, stats = read_results(tmp_path / "census.jsonl")
    assert stats["endpoints"] == len(rows) == 150
    expected = agreement(manifest, rows, CENSUS_COLUMNS).share
    assert expected is not None
    assert result["census"]["agreement"] == round(expected, 4)
    # The bare loop sent what census sent: same URLs, each replayed.
    bare_rows, _ = read_results(tmp_path / "bare.jsonl")
    assert sorted(u for u, _ in bare_rows) == sorted(u for u, _ in rows)


def test_bench_without_the_sdk_says_so_and_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "stub"
    blocker.mkdir()
    (blocker / "mcp.py").write_text('raise ImportError("mcp is blocked for this test")\n')
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    done = _bench("--endpoints", "10", "--json", "--work-dir", str(tmp_path / "w"), env=env)
    assert done.returncode != 0
    assert "SDK is not installed" in done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "w" / "testbed").exists()  # nothing was started
