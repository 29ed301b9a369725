"""Debounced changes: `census diff` and `census report --trend` count a status, auth or era
change only once two consecutive complete runs agree on the new value; `--raw` shows the
single-run changes; incomplete runs are never compared.  Runs are real rows in PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from census.errors import UsageError
from census.report.cli import register
from census.report.diff import diff_runs, trend_changes
from tests.report.conftest import new_run, observe

OUTAGE = "https://outage.example/mcp"  # healthy, healthy, unreachable, healthy: one outage
DIED = "https://died.example/mcp"  # healthy, healthy, unreachable, unreachable: a real change
AUTH = "https://auth.example/mcp"  # none, none, oauth, oauth: a confirmed auth change
ERA = "https://era.example/mcp"  # handshake, handshake, dual, handshake: a one-run blip


def _history(engine: sa.Engine) -> list[int]:
    steps = {
        OUTAGE: ["healthy", "healthy", "unreachable", "healthy"],
        DIED: ["healthy", "healthy", "unreachable", "unreachable"],
    }
    auth = ["none", "none", "oauth", "oauth"]
    era = ["handshake", "handshake", "dual", "handshake"]
    runs = []
    with engine.begin() as conn:
        for k in range(4):
            run = new_run(conn)
            for url, statuses in steps.items():
                up = statuses[k] == "healthy"
                observe(
                    conn,
                    run,
                    url,
                    statuses[k],
                    auth_class="none" if up else None,
                    era="handshake" if up else None,
                    failure_reason=None if up else "connect_refused",
                )
            observe(conn, run, AUTH, "healthy" if auth[k] == "none" else "auth_required",
                    auth_class=auth[k], era="handshake")  # fmt: skip
            observe(conn, run, ERA, "healthy", auth_class="none", era=era[k])
            runs.append(run)
    return runs


def _changes(d: object) -> dict[str, dict[tuple[str | None, str | None], int]]:
    transitions = d.transitions  # type: ignore[attr-defined]
    return {col: {(a, b): n for a, b, n in rows} for col, rows in transitions.items()}


def test_a_single_outage_is_not_a_change_but_two_agreeing_runs_are(engine: sa.Engine) -> None:
    r1, r2, r3, r4 = _history(engine)
    # Run 3 alone: every blip is a raw change, none is confirmed yet.
    raw = _changes(diff_runs(engine, r2, r3, raw=True))
    assert raw["status"] == {
        ("healthy", "unreachable"): 2,
        ("healthy", "auth_required"): 1,
    }
    assert raw["era"][("handshake", "dual")] == 1
    debounced = diff_runs(engine, r2, r3)
    assert debounced.debounced and _changes(debounced) == {
        "status": {},
        "auth_class": {},
        "era": {},
    }
    assert debounced.counts()["status_changed_single_run"] == 3
    # Run 4 agrees with run 3 on the dead endpoint and the OAuth wall: those changes count.
    for a in (r2, r3):
        d = _changes(diff_runs(engine, a, r4))
        assert d["status"] == {("healthy", "unreachable"): 1, ("healthy", "auth_required"): 1}
        assert d["auth_class"] == {("none", "oauth"): 1, ("none", None): 1}
        assert d["era"] == {("handshake", None): 1}  # the dead endpoint; the era blip is gone
    # The outage endpoint recovered: a raw diff across it sees nothing either.
    assert ("unreachable", "healthy") in _changes(diff_runs(engine, r3, r4, raw=True))["status"]
    assert diff_runs(engine, r1, r2).counts()["status_changed"] == 0


def test_incomplete_runs_are_never_compared(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        r1 = new_run(conn)
        observe(conn, r1, DIED, "healthy", auth_class="none", era="handshake")
        stopped = new_run(conn, status="stopped")
        observe(conn, stopped, DIED, "unreachable", failure_reason="connect_refused")
        r3 = new_run(conn)
        observe(conn, r3, DIED, "unreachable", failure_reason="connect_refused")
        r4 = new_run(conn)
        observe(conn, r4, DIED, "unreachable", failure_reason="connect_refused")
    with pytest.raises(UsageError, match="not complete"):
        diff_runs(engine, r1, stopped)
    with pytest.raises(UsageError, match="not complete"):
        diff_runs(engine, stopped, r4, raw=True)
    # The stopped run is not part of the sequence: runs 1 and 3 are consecutive complete runs,
    # so the change is confirmed by run 4, not by the stopped run and run 3.
    assert _changes(diff_runs(engine, r1, r3))["status"] == {}
    assert _changes(diff_runs(engine, r1, r4))["status"] == {("healthy", "unreachable"): 1}
    assert trend_changes(engine, [r1, r3, r4]) == [
        None,
        {"status": 0, "auth_class": 0, "era": 0},
        {"status": 1, "auth_class": 1, "era": 1},
    ]


def test_the_commands_debounce_by_default_and_show_single_run_changes_with_raw(
    engine: sa.Engine, database_url: str
) -> None:
    r1, r2, r3, r4 = _history(engine)
    with engine.begin() as conn:
        running = new_run(conn, status="running")
        observe(conn, running, DIED, "healthy", auth_class="none", era="handshake")
    app = typer.Typer()
    register(app)
    env = {"DATABASE_URL": database_url}
    runner = CliRunner()

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, [*args, "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        data: dict[str, object] = json.loads(result.stdout)
        return data

    debounced = run("diff", str(r2), str(r3))
    assert debounced["debounced"] is True and "two consecutive complete runs" in str(
        debounced["rule"]
    )
    assert debounced["counts"]["status_changed"] == 0  # type: ignore[index]
    assert debounced["counts"]["status_changed_single_run"] == 3  # type: ignore[index]
    raw = run("diff", str(r2), str(r3), "--raw")
    assert raw["debounced"] is False and raw["counts"]["status_changed"] == 3  # type: ignore[index]
    shown = runner.invoke(app, ["diff", str(r2), str(r4)], env=env)
    assert shown.exit_code == 0 and "two consecutive complete runs" in " ".join(
        shown.stdout.split()
    )
    result = runner.invoke(app, ["diff", str(r4), str(running)], env=env)
    assert result.exit_code != 0 and "not complete" in str(result.exception)

    trend = run("report", "--trend", "--runs", "5")
    runs = trend["runs"]
    assert [p["run_id"] for p in runs] == [r1, r2, r3, r4]  # type: ignore[union-attr,index]
    assert [p["changes"] for p in runs] == [  # type: ignore[union-attr,index]
        None,
        {"status": 0, "auth_class": 0, "era": 0},
        {"status": 0, "auth_class": 0, "era": 0},
        {"status": 2, "auth_class": 2, "era": 1},
    ]
    assert trend["skipped_incomplete_runs"] == [running]
    raw_trend = run("report", "--trend", "--raw")
    assert raw_trend["runs"][2]["changes"] == {"status": 3, "auth_class": 3, "era": 3}  # type: ignore[index]
    alone = runner.invoke(app, ["report", "--raw"], env=env)
    assert alone.exit_code != 0 and "--raw goes with --trend" in str(alone.exception)
    table = runner.invoke(app, ["report", "--trend"], env=env)
    assert table.exit_code == 0, table.output
    assert "incomplete runs skipped" in table.stdout and "consecutive complete runs" in table.stdout
