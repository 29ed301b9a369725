"""Secrets in listed URLs (issue 8): the testbed's registries list some endpoints with a credential
in the query string or the userinfo; ``census crawl --testbed`` must raise ``secret_in_url`` on
them and the credential must appear nowhere — not in any table of the database (evidence and
raw listings included), not in any export format, report or diff, not in the logs."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from rich.console import Console

from census.report import build_report, print_report, to_csv, to_html, to_json, to_markdown
from census.report.diff import diff_runs, diff_to_json
from census.report.export import EXPORT_FORMATS, export_table
from census.report.schema import TABLES
from census.testbed import TestbedSpec, running
from census.testbed.registries import build_mirrors
from tests.crawl.helpers import observed

pytestmark = pytest.mark.anyio

#: Every log record at DEBUG and up goes to stderr, so "the logs" are all the logs there are.
_DEBUG_LOGGING = (
    "import logging, runpy; logging.basicConfig(level=logging.DEBUG); "
    "runpy.run_module('census', run_name='__main__')"
)


def _census(args: list[str], database_url: str, timeout: float = 300) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CENSUS_CONTACT_URL": "https://example.invalid",
    }
    done = subprocess.run(
        [sys.executable, "-c", _DEBUG_LOGGING, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def _database_text(engine: sa.Engine) -> str:
    """Every row of every table (partitions and the queue's schema too) as text."""
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_schema IN ('public', 'procrastinate')"
                " AND table_type = 'BASE TABLE'"
            )
        ).all()
        assert len(tables) > 10
        parts = []
        for schema, table in tables:
            rows = conn.execute(sa.text(f'SELECT t::text FROM "{schema}"."{table}" t')).scalars()
            parts.extend(rows)
    return "\n".join(parts)


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        # Parquet pages are compressed: read the cells, not the bytes.
        return json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False)
    return path.read_text(encoding="utf-8", errors="replace")


@pytest.mark.slow
async def test_no_planted_secret_reaches_the_database_the_exports_or_the_logs(
    database_url: str, engine: sa.Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tb_dir = tmp_path / "tb"
    async with running(TestbedSpec(endpoints=40, seed=22, mix="findings"), tb_dir) as tb:
        secrets = tb.secrets()
        kinds = {tb.row(url)["profile"] for url in secrets}
        assert kinds == {"secret_query", "secret_userinfo"}
        # Positive control: the registry mirrors really offer the secrets to the census.
        offered = json.dumps(dataclasses.asdict(build_mirrors(tb.world)))
        assert all(secret in offered for secret in secrets.values())
        crawl_args = ["crawl", "--testbed", str(tb_dir), "--seed-file", str(tb.seeds_file)]
        logs = await anyio.to_thread.run_sync(lambda: _census(crawl_args, database_url))

    run_id = _latest_run(engine)
    rows = observed(engine, run_id)
    for url in secrets:
        assert url in rows, f"{url} was not crawled"
        assert "secret_in_url" in rows[url]["findings"], url  # type: ignore[operator]

    outputs: list[tuple[str, str]] = [("census crawl output and logs", logs)]
    caplog.set_level(logging.DEBUG)
    for table in TABLES:
        for fmt in EXPORT_FORMATS:
            out = tmp_path / f"{table}.{fmt}"
            export_table(
                engine, table, fmt, out, run_id if table in ("observations", "tools") else None
            )
            outputs.append((f"export {table} {fmt}", _file_text(out)))
    report = build_report(engine, run_id)
    for render in (to_json, to_markdown, to_csv, to_html):
        outputs.append((f"report {render.__name__}", render(report)))
    terminal = io.StringIO()
    print_report(report, Console(file=terminal, width=200, color_system=None))
    outputs.append(("report table", terminal.getvalue()))
    outputs.append(("diff", diff_to_json(diff_runs(engine, run_id, run_id))))
    outputs.append(("in-process logs", caplog.text))
    outputs.append(("database", _database_text(engine)))

    # Every document has content (in-process logs may be empty: nothing to leak then).
    assert all(text for where, text in outputs if where != "in-process logs")
    leaks = [
        f"{where}: secret of {url}"
        for where, text in outputs
        for url, secret in secrets.items()
        if secret in text
    ]
    assert leaks == [], "\n".join(leaks)
    # The census did see them: the listings keep the redacted provenance.
    assert "REDACTED" in dict(outputs)["database"]


def _latest_run(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT max(id) FROM crawl_runs")).scalar_one())
