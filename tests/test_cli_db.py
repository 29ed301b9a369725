"""`census db …` through the real command line: one clear line and a non-zero exit on bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from census.store.engine import make_engine


def census(
    *args: str, database_url: str | None, home: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CENSUS_HOME")}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    if home is not None:
        env["CENSUS_HOME"] = home
    return subprocess.run(
        [sys.executable, "-m", "census", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version_prints_the_package_version() -> None:
    from census import __version__

    result = census("--version", database_url=None)
    assert result.returncode == 0
    assert result.stdout.strip() == f"census {__version__}"


def test_db_upgrade_creates_the_schema_and_status_reports_it(empty_database_url: str) -> None:
    before = census("db", "status", database_url=empty_database_url)
    assert before.returncode == 0, before.stderr
    assert "(empty database)" in before.stdout
    upgraded = census("db", "upgrade", database_url=empty_database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    after = census("db", "status", database_url=empty_database_url)
    assert "up to date" in after.stdout
    engine = make_engine(empty_database_url)
    try:
        assert "observations" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_status_never_prints_the_password(empty_database_url: str) -> None:
    url = make_url(empty_database_url)
    with_password = url.set(password="s3cr3t-pw").render_as_string(hide_password=False)
    result = census("db", "status", database_url=with_password)
    # trust auth accepts any password, so the command succeeds and must still hide it
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert "***" in result.stdout + result.stderr


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unreachable_database_is_one_clear_line() -> None:
    result = census("db", "status", database_url="postgresql://postgres@127.0.0.1:1/x")
    assert "cannot reach the database" in _one_error_line(result)


def test_malformed_and_foreign_urls_are_one_clear_line() -> None:
    assert "not a valid database URL" in _one_error_line(
        census("db", "status", database_url="::not a url::")
    )
    assert "must be a PostgreSQL URL" in _one_error_line(
        census("db", "upgrade", database_url="mysql://root@127.0.0.1/x")
    )


def test_permission_denied_is_one_clear_line(empty_database_url: str) -> None:
    url = make_url(empty_database_url).set(username="census_no_such_role")
    result = census("db", "status", database_url=url.render_as_string(hide_password=False))
    assert "denied" in _one_error_line(result)


def test_a_database_newer_than_the_code_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '2999_future'"))
    finally:
        engine.dispose()
    for command in ("status", "upgrade"):
        line = _one_error_line(census("db", command, database_url=database_url))
        assert "newer than the code" in line
