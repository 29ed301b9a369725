"""Confirmation within a run (issue 13): transient-looking failures are probed a second time
later in the run; the crawl reproduces the simulated internet's planted flapping endpoints
exactly, the failure rate counts confirmed failures only, and a run interrupted between its
first pass and its confirmations is finished by ``--resume``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from census.crawl.confirm import CONFIRM_SHARD
from census.crawl.engine import RunProgress, resume_run, work
from census.crawl.settings import CrawlSettings
from census.crawl.worker import make_app
from census.report import build_report
from census.store.observations import libpq_url
from census.testbed.process import served
from tests.crawl.helpers import (
    FAST,
    busiest_window_per_host,
    disagreements,
    load_endpoints,
    new_run,
    observed,
    reclassified_disagreements,
    request_for,
)

pytestmark = pytest.mark.anyio
UA = "census-test/1 (+https://example.invalid/census)"
#: What the flapping entries plant (census.testbed.flapping), every one of them checked.
PLANTED = ["status", "failure_reason", "attempts", "confirmed", "flapping", "era", "tool_count"]
FAILED = ("unreachable", "http_error", "not_mcp")
DELAY = FAST.confirm_delay


async def _work(
    database_url: str,
    engine: sa.Engine,
    run_id: int,
    crawl: CrawlSettings = FAST,
    on_progress: Any = None,
) -> RunProgress | None:
    return await work(
        database_url,
        crawl,
        UA,
        until_run=run_id,
        engine=engine,
        on_progress=on_progress,
        progress_interval=0.2,
        install_signal_handlers=False,
    )


def _attempts_evidence(engine: sa.Engine, run_id: int) -> dict[str, dict[int, str]]:
    """{url: {attempt: evidence started_at}}."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT e.url, ev.attempt, ev.data->>'started_at' FROM evidence ev"
                " JOIN endpoints e ON e.id = ev.endpoint_id WHERE ev.run_id = :run"
            ),
            {"run": run_id},
        ).all()
    out: dict[str, dict[int, str]] = {}
    for url, attempt, started in rows:
        out.setdefault(str(url), {})[int(attempt)] = str(started)
    return out


def _expected_counts(manifest: list[dict[str, str]]) -> tuple[int, int, int]:
    """(confirmed failures, flapping, probed) as planted."""
    failures = sum(1 for m in manifest if m["status"] in FAILED and m["flapping"] != "true")
    flapping = sum(1 for m in manifest if m["flapping"] == "true")
    return failures, flapping, len(manifest)


async def test_a_crawl_reports_exactly_the_planted_confirmed_failures_and_flapping(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    with served(tmp_path, 24, 5, mix="flapping") as tb:
        load_endpoints(engine, tb.urls)
        run_id = await new_run(database_url, engine, request_for(tb))
        with anyio.fail_after(240):
            final = await _work(database_url, engine, run_id)
        assert final is not None and final.status == "complete"
        rows = observed(engine, run_id)
        assert set(rows) == set(tb.urls)
        bad = disagreements(tb, rows, PLANTED)
        assert bad == [], "\n".join(bad)
        profiles = {m["profile"] for m in tb.manifest}
        assert profiles == {"flap_down_up", "flap_up_down", "flap_down_down", "flap_5xx_up"}

        # Both attempts' evidence is kept; the second came at least the delay after the first,
        # and re-classifying the evidence that stands gives the stored verdict.
        evidence = _attempts_evidence(engine, run_id)
        for m in tb.manifest:
            attempts = evidence[m["url"]]
            assert sorted(attempts) == list(range(1, int(m["attempts"]) + 1)), m["profile"]
            if len(attempts) == 2:
                waited = datetime.fromisoformat(attempts[2]) - datetime.fromisoformat(attempts[1])
                assert waited >= timedelta(seconds=DELAY), m["url"]
        assert reclassified_disagreements(engine, run_id, ["status", "failure_reason"]) == []

        # The headline: confirmed failures only; the recovered endpoints are not failures.
        report = build_report(engine, run_id)
        failures, flapping, probed = _expected_counts(tb.manifest)
        assert failures > 0 and flapping > 0
        rate = report.figure("failure_rate")
        assert (rate.numerator, rate.denominator) == (failures, probed)
        flapped = report.figure("flapping")
        assert (flapped.numerator, flapped.denominator) == (flapping, probed)
        single_probe_failures = sum(
            1
            for m in tb.manifest
            if m["profile"] in ("flap_down_up", "flap_5xx_up", "flap_down_down")
        )
        assert rate.numerator < single_probe_failures  # one probe would have counted these

        # The confirmations kept to the per-host politeness budget.
        log = tb.stop()
        assert log
        # 2 requests/s per host: at most 10 starts in 5 s, +2 for arrival jitter
        assert max(busiest_window_per_host(tb, 5.0).values()) <= 2 * 5 + 2


async def test_a_run_interrupted_before_its_confirmations_is_finished_by_resume(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    # A delay of an hour: the first pass ends, the run is confirming, nothing is due yet.
    slow = replace(FAST, confirm_delay=3600.0)
    with served(tmp_path, 16, 9, mix="flapping") as tb:
        load_endpoints(engine, tb.urls)
        run_id = await new_run(database_url, engine, request_for(tb, slow))
        with anyio.fail_after(240):
            async with anyio.create_task_group() as tg:

                def interrupt(p: RunProgress) -> None:
                    if p.status == "confirming":
                        tg.cancel_scope.cancel()  # the process dies: no graceful "stopped"

                tg.start_soon(lambda: _work(database_url, engine, run_id, slow, interrupt))
        with engine.begin() as conn:
            status = conn.execute(
                sa.text("SELECT status FROM crawl_runs WHERE id = :r"), {"r": run_id}
            ).scalar_one()
            planned = conn.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE state = 'queued'),"
                    " min(not_before) - now() FROM crawl_confirmations WHERE run_id = :r"
                ),
                {"r": run_id},
            ).one()
            reprobed = conn.execute(
                sa.text("SELECT count(*) FROM observations WHERE run_id = :r AND attempts = 2"),
                {"r": run_id},
            ).scalar_one()
            assert status == "confirming" and planned[0] > 0 and reprobed == 0
            assert planned[1] > timedelta(minutes=50)  # due an hour after the first probes
            # The crash also lost the queued jobs; and the hour passes.
            conn.execute(sa.text("SET LOCAL search_path TO procrastinate, public"))
            conn.execute(
                sa.text(
                    "DELETE FROM procrastinate.procrastinate_jobs WHERE task_name = :t"
                    " AND args->>'run_id' = :r"
                ),
                {"t": CONFIRM_SHARD, "r": str(run_id)},
            )
            conn.execute(
                sa.text("UPDATE crawl_confirmations SET not_before = now() WHERE run_id = :r"),
                {"r": run_id},
            )

        app = make_app(libpq_url(database_url))
        async with app.open_async():
            queued = await resume_run(engine, app, run_id)
        assert queued == planned[0]  # every confirmation queued again, no first-pass shard
        with anyio.fail_after(240):
            final = await _work(database_url, engine, run_id)
        assert final is not None and final.status == "complete"
        rows = observed(engine, run_id)
        bad = disagreements(tb, rows, PLANTED)
        assert bad == [], "\n".join(bad)
        report = build_report(engine, run_id)
        failures, flapping, _ = _expected_counts(tb.manifest)
        assert report.figure("failure_rate").numerator == failures
        assert report.figure("flapping").numerator == flapping


async def test_no_confirm_probes_every_endpoint_once(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    once = replace(FAST, confirm=False)
    with served(tmp_path, 8, 5, mix="flapping") as tb:
        load_endpoints(engine, tb.urls)
        run_id = await new_run(database_url, engine, request_for(tb, once))
        with anyio.fail_after(240):
            final = await _work(database_url, engine, run_id, once)
        assert final is not None and final.status == "complete"
        rows = observed(engine, run_id)
        assert {r["attempts"] for r in rows.values()} == {1}
        assert {r["flapping"] for r in rows.values()} == {None}
        # One probe sees the first visit: every down-first endpoint is a failure.
        down_first = {
            m["url"] for m in tb.manifest if m["profile"] in ("flap_down_up", "flap_down_down")
        }
        assert {u for u, r in rows.items() if r["status"] == "unreachable"} == down_first
