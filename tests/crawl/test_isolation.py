"""Isolation by construction (issue 12): whatever fails for one endpoint — census's own code
probing, classifying or storing it, or the database refusing its row — becomes that endpoint's
``skipped``/``census_error`` observation; the other endpoints of the same shard are observed
normally and the run completes.  A shard that still fails ends its run ``failed``; ``census
crawl`` then exits 1 with one line on stderr and ``--resume`` finishes the run."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

import census.classify
from census.crawl import worker as crawl_worker
from census.crawl.engine import resume_run, work
from census.crawl.worker import make_app
from census.probe import plan
from census.records import Evidence, Observation
from census.store.observations import libpq_url
from census.testbed.process import served
from tests.crawl.helpers import (
    FAST,
    disagreements,
    load_endpoints,
    new_run,
    observation_count,
    observed,
    reclassified_disagreements,
    request_for,
)

pytestmark = pytest.mark.anyio
PLANTED = ["status", "failure_reason", "era", "auth_class", "cors_class", "tool_count"]
UA = "census-test/1 (+https://example.invalid/census)"
#: One shard for the whole testbed: the faulty endpoints share it with the healthy ones.  No
#: worker is killed here, so no fast stall detection (a loaded machine can pause a loop 2 s).
ONE_SHARD = replace(FAST, shard_size=1000, heartbeat_interval=2.0, stalled_worker_timeout=30.0)
PLANTED_BUG = "planted bug: this text must never reach the stored data"


def _evidence(engine: sa.Engine, run_id: int) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT e.url, ev.data::text FROM evidence ev JOIN endpoints e"
                " ON e.id = ev.endpoint_id WHERE ev.run_id = :run"
            ),
            {"run": run_id},
        ).all()
    return {str(url): str(text) for url, text in rows}


def _healthy_urls(tb: Any, n: int) -> list[str]:
    urls = [row["url"] for row in tb.manifest if row["status"] == "healthy"]
    assert len(urls) >= n, "the testbed has too few healthy endpoints for this test"
    return urls[:n]


async def _crawl(database_url: str, engine: sa.Engine, tb: Any) -> tuple[int, Any]:
    load_endpoints(engine, tb.urls)
    run_id = await new_run(database_url, engine, request_for(tb, ONE_SHARD))
    with anyio.fail_after(300):
        final = await work(
            database_url,
            ONE_SHARD,
            UA,
            until_run=run_id,
            engine=engine,
            install_signal_handlers=False,
        )
    return run_id, final


async def test_census_failing_on_one_endpoint_costs_only_that_endpoint(
    database_url: str, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(tmp_path, 40, 21) as tb:
        bad_probe, bad_classify, bad_crawl = _healthy_urls(tb, 3)
        # Bugs of ours planted at the three stages, each for one URL only.
        real_sequence, real_classify = plan._sequence, census.classify.classify
        real_findings = crawl_worker.with_endpoint_findings

        async def sequence(run: Any) -> None:
            if run.url == bad_probe:
                raise RuntimeError(PLANTED_BUG)
            await real_sequence(run)

        def classify(evidence: Evidence) -> Observation:
            if evidence.url == bad_classify and "census_error" not in evidence.notes:
                raise KeyError(PLANTED_BUG)
            return real_classify(evidence)

        def findings(observation: Observation, **kw: Any) -> Observation:
            if observation.url == bad_crawl:
                raise ValueError(PLANTED_BUG)
            return real_findings(observation, **kw)

        monkeypatch.setattr(plan, "_sequence", sequence)
        monkeypatch.setattr(census.classify, "classify", classify)
        monkeypatch.setattr(crawl_worker, "with_endpoint_findings", findings)

        run_id, final = await _crawl(database_url, engine, tb)

        assert final is not None and final.status == "complete"
        assert final.shards_total == 1
        rows = observed(engine, run_id)
        assert set(rows) == set(tb.urls)
        assert observation_count(engine, run_id) == len(tb.urls)
        faulty = {bad_probe: "probe", bad_classify: "classify", bad_crawl: "crawl"}
        for url in faulty:
            assert (rows[url]["status"], rows[url]["failure_reason"]) == (
                "skipped",
                "census_error",
            )
        evidence = _evidence(engine, run_id)
        exceptions = {bad_probe: "RuntimeError", bad_classify: "KeyError", bad_crawl: "ValueError"}
        for url, stage in faulty.items():
            notes = Evidence.from_json(evidence[url]).notes
            assert notes["census_error"] == f"{stage}: {exceptions[url]}"
        # The exception's text and traceback stay in the operator's log, never in the data.
        assert not [
            u for u, text in evidence.items() if "planted bug" in text or "Traceback" in text
        ]
        bad = [d for d in disagreements(tb, rows, PLANTED) if d.split(" ")[0] not in faulty]
        assert bad == [], "\n".join(bad)
        # A census_error observation is re-derived from its stored evidence like any other.
        assert reclassified_disagreements(engine, run_id, PLANTED) == []


def _refuse(engine: sa.Engine, table: str, endpoint_id: int, unless: str) -> None:
    """A trigger on ``table``: the database refuses that endpoint's rows (unless ``unless``)."""
    name = f"refuse_{table}_{endpoint_id}"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" IF NEW.endpoint_id = {endpoint_id} AND NOT ({unless}) THEN"
                "   RAISE EXCEPTION 'row refused by the test';"
                " END IF; RETURN NEW; END $$"
            )
        )
        conn.execute(
            sa.text(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        )


def _endpoint_ids(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {str(u): int(i) for i, u in conn.execute(sa.text("SELECT id, url FROM endpoints"))}


async def test_rows_the_database_refuses_are_stored_as_census_error(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    with served(tmp_path, 40, 22) as tb:
        refused_observation, refused_evidence = _healthy_urls(tb, 2)
        load_endpoints(engine, tb.urls)
        ids = _endpoint_ids(engine)
        # One endpoint's observation row and another's evidence document are refused, whatever
        # the value: only a census_error row gets through for them.
        _refuse(
            engine,
            "observations",
            ids[refused_observation],
            "NEW.failure_reason IS NOT DISTINCT FROM 'census_error'",
        )
        _refuse(
            engine,
            "evidence",
            ids[refused_evidence],
            "NEW.data->'notes'->>'skipped' IS NOT DISTINCT FROM 'census_error'",
        )
        run_id, final = await _crawl(database_url, engine, tb)

        assert final is not None and final.status == "complete"
        rows = observed(engine, run_id)
        assert set(rows) == set(tb.urls)
        assert observation_count(engine, run_id) == len(tb.urls)
        refused = {refused_observation, refused_evidence}
        for url in refused:
            assert (rows[url]["status"], rows[url]["failure_reason"]) == (
                "skipped",
                "census_error",
            )
            notes = Evidence.from_json(_evidence(engine, run_id)[url]).notes
            assert notes["census_error"] == "store: RaiseException"
        with engine.connect() as conn:
            tools_of_refused = conn.execute(
                sa.text(
                    "SELECT count(*) FROM observation_tools WHERE run_id = :run"
                    " AND endpoint_id = ANY(:ids)"
                ),
                {"run": run_id, "ids": [ids[u] for u in refused]},
            ).scalar_one()
        assert tools_of_refused == 0  # the minimal observation: no tools
        bad = [d for d in disagreements(tb, rows, PLANTED) if d.split(" ")[0] not in refused]
        assert bad == [], "\n".join(bad)


def _census(*args: str, database_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CENSUS_HOME": str(home),
        "CENSUS_CONTACT_URL": "https://example.invalid",
    }
    return subprocess.run(
        [sys.executable, "-m", "census", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _run(engine: sa.Engine) -> tuple[int, str, int]:
    with engine.connect() as conn:
        run_id, status, total = conn.execute(
            sa.text("SELECT id, status, endpoint_total FROM crawl_runs ORDER BY id DESC LIMIT 1")
        ).one()
    return int(run_id), str(status), int(total)


@pytest.mark.slow  # ~2 min: five retries of the failing shard (0+2+4+6+8 s), two crawls
@pytest.mark.timeout(600)
def test_a_shard_that_keeps_failing_fails_its_run_and_resume_finishes_it(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with served(tmp_path / "tb", 40, 23) as tb:
        found = _census(
            "discover", "--testbed", str(tb.out_dir), database_url=database_url, home=home
        )
        assert found.returncode == 0, found.stderr
        # A listed host of one endpoint that answers fast: its shard is retried quickly.
        listed = set(_endpoint_ids(engine))
        per_host: dict[str, list[dict[str, str]]] = {}
        for row in tb.manifest:
            per_host.setdefault(row["url"].split("/")[2].split(":")[0], []).append(row)
        victim = next(
            rows[0]["url"]
            for rows in per_host.values()
            if len(rows) == 1
            and rows[0]["url"] in listed
            and (
                rows[0]["status"] in ("not_mcp", "http_error")
                or rows[0]["failure_reason"] in ("connect_refused", "dns_error")
            )
        )
        with engine.connect() as conn:
            host = conn.execute(
                sa.text("SELECT host FROM endpoints WHERE url = :u"), {"u": victim}
            ).scalar_one()
        # The database refuses every row of that host, census_error ones included: not a
        # problem of one endpoint's values, so the shard itself fails (after its retries).
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE FUNCTION refuse_host() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    " IF EXISTS (SELECT 1 FROM endpoints WHERE id = NEW.endpoint_id"
                    f"   AND host = '{host}') THEN RAISE EXCEPTION 'database refusing';"
                    " END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_host BEFORE INSERT ON observations"
                    " FOR EACH ROW EXECUTE FUNCTION refuse_host()"
                )
            )
        first = _census(
            "crawl",  # every listed endpoint, resolved by the testbed's hosts file only
            "--hosts-file",
            str(tb.hosts_file),
            "--ca-bundle",
            str(tb.ca_bundle),
            "--shard-size",
            "10",
            "--confirm-delay",  # not a --testbed crawl: the real-internet default is 10 min
            "2",
            database_url=database_url,
            home=home,
        )
        run_id, status, total = _run(engine)
        assert first.returncode == 1, first.stdout[-2000:] + first.stderr[-2000:]
        lines = first.stderr.strip().splitlines()
        assert len(lines) == 1, first.stderr
        assert "failed" in lines[0] and f"census crawl --resume {run_id}" in lines[0]
        assert status == "failed"
        with engine.connect() as conn:
            states = dict(
                conn.execute(
                    sa.text(
                        "SELECT state, count(*) FROM crawl_shards WHERE run_id = :r GROUP BY state"
                    ),
                    {"r": run_id},
                ).all()
            )
        assert states.get("failed") == 1 and states.get("done", 0) >= 1, states
        # Every endpoint outside the failed shard was observed once; the log has the details.
        assert observation_count(engine, run_id) < total
        assert victim not in observed(engine, run_id)
        assert "failed after 5 retries" in (home / "logs" / "crawl.log").read_text()

        with engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER refuse_host ON observations"))
        resumed = _census("crawl", "--resume", str(run_id), database_url=database_url, home=home)
        assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
        assert _run(engine) == (run_id, "complete", total)
        assert observation_count(engine, run_id) == total
        assert victim in observed(engine, run_id)


async def test_a_run_whose_shard_jobs_vanished_ends_failed_and_resumes(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    """The watch never waits for a shard no queue job will work (here: jobs deleted)."""
    with served(tmp_path, 20, 24) as tb:
        load_endpoints(engine, tb.urls)
        run_id = await new_run(database_url, engine, request_for(tb, ONE_SHARD))
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL search_path TO procrastinate, public"))
            conn.execute(sa.text("DELETE FROM procrastinate_jobs"))
        with anyio.fail_after(60):
            final = await work(
                database_url, ONE_SHARD, UA, until_run=run_id, engine=engine,
                install_signal_handlers=False,
            )  # fmt: skip
        assert final is not None and (final.status, final.shards_failed) == ("failed", 1)

        app = make_app(libpq_url(database_url))
        async with app.open_async():
            assert await resume_run(engine, app, run_id) == 1
        with anyio.fail_after(300):
            final = await work(
                database_url, ONE_SHARD, UA, until_run=run_id, engine=engine,
                install_signal_handlers=False,
            )  # fmt: skip
        assert final is not None and final.status == "complete"
        assert observation_count(engine, run_id) == len(tb.urls)
