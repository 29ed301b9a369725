"""Without DATABASE_URL census runs an embedded PostgreSQL, shared across processes and safe to
interrupt.  These tests always use the embedded server, whatever CENSUS_TEST_DATABASE_URL says."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.test_cli_db import census

# A child that opens the embedded database, then commits one row at a time and reports each.
WRITER = textwrap.dedent(
    """
    import sys
    import sqlalchemy as sa
    from census.config import load_settings
    from census.store import make_engine, resolve_database

    engine = make_engine(resolve_database(load_settings()).url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t_interrupt (n int primary key)"))
    n = 0
    while True:
        n += 1
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t_interrupt VALUES (:n)"), {"n": n})
        print(n, flush=True)
    """
)

COUNTER = textwrap.dedent(
    """
    import sqlalchemy as sa
    from census.config import load_settings
    from census.store import make_engine, resolve_database

    engine = make_engine(resolve_database(load_settings()).url)
    with engine.connect() as conn:
        print(conn.execute(sa.text("SELECT coalesce(max(n), 0) FROM t_interrupt")).scalar_one())
    engine.dispose()
    """
)


def _postmasters(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=("name", "cmdline")):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(cmdline):
            found.append(proc)
    return found


@pytest.fixture
def home() -> Iterator[Path]:
    # Not pytest's tmp_path: the embedded server runs as its own system user when tests run as
    # root, and pytest's per-user temporary root is private (0700).
    path = Path(tempfile.mkdtemp(prefix="census-home-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for proc in _postmasters(path / "pgdata"):  # never leave a server behind
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(path, ignore_errors=True)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CENSUS_HOME"] = str(home)
    return env


def _run_python(code: str, home: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(home), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_first_command_on_a_fresh_machine_starts_the_embedded_server(home: Path) -> None:
    upgraded = census("db", "upgrade", database_url=None, home=str(home))
    assert upgraded.returncode == 0, upgraded.stderr
    status = census("db", "status", database_url=None, home=str(home))
    assert "embedded PostgreSQL" in status.stdout
    assert "up to date" in status.stdout
    assert _postmasters(home / "pgdata") == []  # stopped when the last command exited


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupting_a_command_then_running_another_loses_nothing(
    home: Path, sig: signal.Signals
) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        committed = 0
        for line in writer.stdout:  # blocks on the child's own progress, no sleeps
            committed = int(line)
            if committed >= 50:
                break
        writer.send_signal(sig)
        writer.wait(60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(30)
    # Every row the writer reported as committed is there for the next command.
    assert int(_run_python(COUNTER, home)) >= committed
    assert _postmasters(home / "pgdata") == []  # the next command stopped it cleanly
