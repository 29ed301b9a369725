"""Issue 8 end to end on the simulated internet (``--mix findings``): discovery from the
testbed's registry mirrors, two crawl runs with the rug pulls switched on in between, and
``census diff`` — every planted finding detected, none on the clean set, exactly the planted
rug pulls reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from census.crawl.engine import work
from census.crawl.pipeline import DiscoverySpec, run_discovery
from census.testbed import TestbedSpec, running
from tests.crawl.helpers import FAST, new_run, observed, request_for

pytestmark = pytest.mark.anyio
UA = "census-test/1 (+https://example.invalid/census)"


def _codes(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return sorted(filter(None, value.split(";")))
    return sorted(str(v) for v in value)  # type: ignore[attr-defined]


async def _crawl(database_url: str, engine: sa.Engine, tb_request: object) -> int:
    run_id = await new_run(database_url, engine, tb_request)  # type: ignore[arg-type]
    with anyio.fail_after(240):
        final = await work(
            database_url, FAST, UA, until_run=run_id, engine=engine, install_signal_handlers=False
        )
    assert final is not None and final.status == "complete"
    return run_id


def _census_json(*args: str, database_url: str) -> dict[str, object]:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "census", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


@pytest.mark.slow
async def test_two_runs_detect_every_planted_finding_and_diff_reports_exactly_the_rug_pulls(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    async with running(TestbedSpec(endpoints=64, seed=21, mix="findings"), tmp_path) as tb:
        # Discovery through the registry mirrors (secrets travel the real path) plus the seeds.
        spec = DiscoverySpec(
            testbed=str(tb.out_dir), seed_files=(str(tb.seeds_file),), min_interval=0.01
        )
        with anyio.fail_after(120):
            await run_discovery(engine, spec, UA)
        request = request_for(tb)

        first = await _crawl(database_url, engine, request)
        rows = observed(engine, first)
        wrong = [
            f"{m['profile']} {m['url']}: {_codes(rows[m['url']]['findings'])} != {m['findings']}"
            for m in tb.manifest
            if _codes(rows[m["url"]]["findings"]) != _codes(m["findings"])
        ]
        assert wrong == [], "\n".join(wrong)
        planted = {m["profile"] for m in tb.manifest if m["findings"]}
        clean = {m["profile"] for m in tb.manifest if not m["findings"]}
        assert {"poison_hidden_tag", "poison_shadow_foreign", "secret_userinfo"} <= planted
        assert {"clean_tricky", "clean_generated"} <= clean

        tb.set_epoch(2)
        second = await _crawl(database_url, engine, request)
        rows = observed(engine, second)
        epoch2 = {c["url"]: c["findings_epoch2"] for c in tb.changes}
        wrong = [
            f"{m['profile']} {m['url']}: {_codes(rows[m['url']]['findings'])}"
            for m in tb.manifest
            if _codes(rows[m["url"]]["findings"]) != _codes(epoch2.get(m["url"], m["findings"]))
        ]
        assert wrong == [], "\n".join(wrong)

        diff = _census_json(
            "diff", str(first), str(second), "--format", "json", database_url=database_url
        )
        manifest_urls = set(tb.urls)
        pulled = {
            (str(r["url"]), str(r["tool"]))  # type: ignore[index]
            for r in diff["rug_pulls"]  # type: ignore[attr-defined]
        }
        expected = {
            (c["url"], tool)
            for c in tb.changes
            for tool in filter(None, c["rug_pull_tools"].split(";"))
        }
        assert expected, "the testbed planted no rug pull"
        assert pulled == expected
        found = {
            (str(f["url"]), str(f["code"]))  # type: ignore[index]
            for f in diff["findings"]  # type: ignore[attr-defined]
            if f["url"] in manifest_urls  # type: ignore[index]
        }
        planted_codes = {
            (c["url"], code) for c in tb.changes for code in filter(None, c["codes"].split(";"))
        }
        assert found == planted_codes
        for row in diff["rug_pulls"]:  # type: ignore[attr-defined]
            assert row["definition_hash_before"] != row["definition_hash_after"]  # type: ignore[index]
