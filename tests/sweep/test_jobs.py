"""`census sweep` end to end: a served sweep world, a real database, procrastinate jobs.

The world runs in its own process (``python -m census.testbed.sweepworld``); the sweep runs as
the command users run, with its in-process worker.  Checked: every planted endpoint stored as
an endpoint and a listing of the sweep's source with how it was found, one read row per chunk
with its counts, and that running the command again (the resume) queues nothing and changes
nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from census.crawl.worker import make_app
from census.errors import ConfigError
from census.store.observations import libpq_url
from census.sweep.cli import settings_for_world
from census.sweep.jobs import chunk_domains, queue_sweep, read_domain_list, run_chunk, sweep_name
from census.sweep.model import SweepSettings
from census.testbed.sweepworld import SweepWorld

SEED = 46
DOMAINS = 1500


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, SweepWorld]]:
    out = tmp_path / "world"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "census.testbed.sweepworld",
            "--seed",
            str(SEED),
            "--out",
            str(out),
            "--domains",
            str(DOMAINS),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        served = json.loads(proc.stdout.readline())
        yield out, SweepWorld(SEED, int(served["http_port"]))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _sweep(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "census", "sweep", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sweep_stores_every_planted_endpoint_and_resumes(
    world: tuple[Path, SweepWorld], database_url: str, engine: sa.Engine
) -> None:
    folder, truth = world
    listed = folder / "domains.txt"
    args = ("--domains", str(listed), "--testbed", str(folder), "--chunk-size", "500")
    first = _sweep(database_url, *args)
    assert first.returncode == 0, first.stderr
    name = sweep_name(read_domain_list(listed))
    assert f"sweep {name}: {DOMAINS} domains" in first.stderr and "3 queued" in first.stderr
    expected = set().union(*(truth.expected(d) for d in truth.domains(DOMAINS)))
    assert expected
    query = sa.text(
        "SELECT e.url, l.raw FROM listings l JOIN sources s ON s.id = l.source_id"
        " JOIN endpoints e ON e.id = l.endpoint_id WHERE s.name = :name AND s.kind = 'sweep'"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"name": name}).all()
        reads = conn.execute(
            sa.text(
                "SELECT r.entries, r.rejected FROM source_reads r JOIN sources s"
                " ON s.id = r.source_id WHERE s.name = :name ORDER BY r.id"
            ),
            {"name": name},
        ).all()
    assert {url for url, _ in rows} == expected
    for url, raw in rows:
        assert raw["sweep"] == name and raw["found_by"] and raw["dns"]["apex"]["outcome"]
        assert url in truth.expected(raw["domain"])
    chunks = chunk_domains(read_domain_list(listed), 500)
    assert sorted(r.rejected["chunk"] for r in reads) == list(range(len(chunks)))
    assert sum(r.entries for r in reads) == DOMAINS
    assert sum(r.rejected["candidates"] for r in reads) == len(expected)

    # Running it again is the resume: every chunk is done, nothing is queued or stored again.
    async def resume() -> tuple[int, bool]:
        app = make_app(libpq_url(database_url))
        async with app.open_async():
            queued = await queue_sweep(
                engine, app, name, chunks, settings_for_world(folder, SweepSettings())
            )
        again = await run_chunk(database_url, "census/test", name, 0, len(chunks), chunks[0], {})
        return queued, again

    assert anyio.run(resume) == (0, False)
    with engine.connect() as conn:
        assert conn.execute(query, {"name": name}).all() == rows
        count = conn.execute(sa.text("SELECT count(*) FROM source_reads")).scalar_one()
    assert count == len(reads)


def test_a_malformed_list_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "domains.txt"
    bad.write_text("good.test\n# a comment\nhttps://bad.test/path\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"domains.txt:3: not a domain name"):
        read_domain_list(bad)
    bad.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="names no domain"):
        read_domain_list(bad)
