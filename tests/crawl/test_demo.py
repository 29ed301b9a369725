"""`census demo`, the README's main command, end to end as a user runs it: a simulated internet
in a child process, discovery from its registry mirrors, the crawl, the report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from census import METHODOLOGY_VERSION

#: The demo is a whole pipeline; far above its ~20 s for 150 endpoints on 2 cores.
DEMO_DEADLINE = 600


def test_census_demo_discovers_crawls_and_reports_a_small_simulated_internet(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CENSUS_HOME": str(tmp_path / "home"),
        "CENSUS_CONTACT_URL": "https://example.invalid",
    }
    done = subprocess.run(
        [sys.executable, "-m", "census", "demo", "--endpoints", "150", "--concurrency", "48"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_DEADLINE,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "simulated internet: 150 endpoints" in done.stdout
    with engine.connect() as conn:
        runs = conn.execute(
            sa.text("SELECT id, status, endpoint_total, methodology_version FROM crawl_runs")
        ).all()
        assert len(runs) == 1
        run_id, status, total, methodology = runs[0]
        observed = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT endpoint_id) FROM observations WHERE run_id = :r"
            ),
            {"r": run_id},
        ).one()
        listed = conn.execute(sa.text("SELECT count(*) FROM endpoints")).scalar_one()
    assert status == "complete"
    assert methodology == METHODOLOGY_VERSION
    # Discovery found endpoints in the mirrors, and each was observed exactly once.
    assert 0 < total <= listed
    assert observed == (total, total)
    # The report printed after the crawl names the run.
    assert f"run {run_id}" in done.stdout
    # It ends with why fewer endpoints were studied than served, and agreement with the plants.
    out = " ".join(done.stdout.split())
    assert f"studied {total:,} endpoints of a simulated internet serving 150" in out
    assert "agreement with the planted answers:" in out
