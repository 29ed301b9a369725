"""`census release` as a user runs it: a simulated internet crawled with `census crawl
--testbed`, then `census release --out DIR`; the folder validates as a Frictionless Data
Package, its checksums hold, and its own CSV files reproduce the published headline exactly."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import frictionless
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from census.release.build import RELEASE_TABLES, _scrub
from census.report.schema import DESCRIPTIONS, TABLES
from census.report.stats import share_interval
from census.store.engine import make_engine
from census.testbed.process import ServedTestbed
from census.vocabulary import CLOSED_COLUMNS
from tests.conftest import DatabaseFactory

#: A whole crawl in a child process; far above its ~30 s for 80 endpoints on 2 cores.
DEADLINE = 600


@dataclass(frozen=True)
class Released:
    database_url: str
    env: dict[str, str]
    run_id: int
    folder: Path
    stdout: str
    stderr: str


def census(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "census", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


@pytest.fixture(scope="module")
def released(
    database_factory: DatabaseFactory,
    migrated_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Released]:
    url = database_factory.create(template=migrated_template)
    tmp = tmp_path_factory.mktemp("release")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CENSUS_HOME": str(tmp / "home"),
        "CENSUS_CONTACT_URL": "https://example.invalid",
    }
    testbed = ServedTestbed(tmp / "testbed", 80, seed=5, mix="uniform")
    try:
        crawled = census("crawl", "--testbed", str(tmp / "testbed"), "--concurrency", "48", env=env)
        assert crawled.returncode == 0, crawled.stdout[-3000:] + crawled.stderr[-3000:]
    finally:
        testbed.stop()
    done = census("release", "--out", str(tmp / "out"), env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            run_id = int(conn.execute(sa.text("SELECT max(id) FROM crawl_runs")).scalar_one())
    finally:
        engine.dispose()
    (folder,) = (tmp / "out").iterdir()
    yield Released(url, env, run_id, folder, done.stdout, done.stderr)


def _csv(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / "data" / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_release_is_a_dated_folder_with_every_promised_file(released: Released) -> None:
    assert released.folder.name.startswith("census-")
    assert released.folder.name.endswith(f"-run{released.run_id}")
    names = {p.relative_to(released.folder).as_posix() for p in released.folder.rglob("*")}
    for table in RELEASE_TABLES:
        assert {f"data/{table}.csv", f"data/{table}.parquet"} <= names
    assert {"datapackage.json", "summary.json", "METHODOLOGY.md", "CITATION.cff"} <= names
    assert "SHA256SUMS" in names
    assert f"released run {released.run_id}" in released.stdout


def test_the_datapackage_validates_with_frictionless_and_every_field_is_described(
    released: Released,
) -> None:
    report = frictionless.validate(str(released.folder / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:10]
    package = json.loads((released.folder / "datapackage.json").read_text())
    assert {r["path"] for r in package["resources"]} == {
        f"data/{t}.{fmt}" for t in RELEASE_TABLES for fmt in ("csv", "parquet")
    }
    for resource in package["resources"]:
        table = resource["name"].removesuffix("-parquet")
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == list(TABLES[table].columns)
        for f in fields:
            assert f["description"] == DESCRIPTIONS[f["name"]] != ""
            if f["name"] in CLOSED_COLUMNS:
                assert f["constraints"]["enum"] == [str(v) for v in CLOSED_COLUMNS[f["name"]]]


def test_every_file_has_its_sha256_in_sha256sums(released: Released) -> None:
    lines = (released.folder / "SHA256SUMS").read_text().splitlines()
    sums = dict(reversed(line.split("  ", 1)) for line in lines)
    files = {
        p.relative_to(released.folder).as_posix()
        for p in released.folder.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    }
    assert set(sums) == files
    for name, digest in sums.items():
        assert hashlib.sha256((released.folder / name).read_bytes()).hexdigest() == digest


#: (metric, population statuses, column, values) of the shares recomputed from the CSV alone.
ANSWERING = {"healthy", "degraded", "auth_required"}
PROBED = {"healthy", "degraded", "auth_required", "not_mcp", "http_error", "unreachable"}
REACHABLE = PROBED - {"unreachable"}
SHARES = (
    ("fully_healthy", PROBED, "status", {"healthy"}),
    ("auth_none", ANSWERING, "auth_class", {"none"}),
    ("auth_static_key_or_bearer", ANSWERING, "auth_class", {"api_key", "bearer"}),
    ("auth_oauth_complete", ANSWERING, "auth_class", {"oauth"}),
    ("auth_oauth_partial", ANSWERING, "auth_class", {"oauth_partial"}),
    ("auth_other", ANSWERING, "auth_class", {"other_auth"}),
    ("cors_wildcard", ANSWERING, "cors_class", {"wildcard"}),
    ("cors_open", ANSWERING, "cors_class", {"wildcard", "reflect", "reflect_credentials"}),
    ("rate_limit_advertised", REACHABLE, "rate_limit_class", {"advertised"}),
    ("rate_limit_enforced", REACHABLE, "rate_limit_class", {"enforced"}),
)


def test_the_release_csv_files_reproduce_the_published_headline_exactly(
    released: Released,
) -> None:
    summary = json.loads((released.folder / "summary.json").read_text())
    headline = {f["metric"]: f for f in summary["headline"]}
    rows = _csv(released.folder, "observations")
    assert (
        headline["endpoints_studied"]["numerator"] == len(rows) == summary["rows"]["observations"]
    )
    checked = 0
    for metric, population, column, values in SHARES:
        den = [r for r in rows if r["status"] in population]
        num = sum(1 for r in den if r[column] in values)
        figure = headline[metric]
        assert (figure["numerator"], figure["denominator"]) == (num, len(den)), metric
        assert figure["percent"] == (round(100 * num / len(den), 2) if den else None), metric
        assert (figure["ci_low"], figure["ci_high"]) == share_interval(num, len(den)), metric
        checked += num > 0
    assert checked >= 4  # a uniform simulated internet plants every class
    # The failure rate counts confirmed failures only: a failed status whose two attempts did
    # not disagree (README "Reading the numbers"); flapping endpoints are counted apart.
    probed = [r for r in rows if r["status"] in PROBED]
    failed = [
        r
        for r in probed
        if r["status"] in ("unreachable", "http_error", "not_mcp")
        and r["flapping"].lower() != "true"
    ]
    rate = headline["failure_rate"]
    assert (rate["numerator"], rate["denominator"]) == (len(failed), len(probed)) != (0, 0)
    assert (rate["ci_low"], rate["ci_high"]) == share_interval(len(failed), len(probed))
    flapping = headline["flapping"]
    assert flapping["numerator"] == sum(1 for r in probed if r["flapping"].lower() == "true")
    with_tools = [
        int(r["tool_count"])
        for r in rows
        if r["status"] in ("healthy", "degraded") and r["tool_count"] != ""
    ]
    assert headline["tools_mean"]["denominator"] == len(with_tools) > 0
    assert headline["tools_mean"]["value"] == round(sum(with_tools) / len(with_tools), 2)
    assert headline["tools_over_30"]["numerator"] == sum(1 for n in with_tools if n > 30)
    # The tools table holds every listed tool of those endpoints.
    tools = _csv(released.folder, "tools")
    assert len(tools) == sum(
        int(r["tool_count"]) for r in rows if r["tool_count"] != "" and r["status"] != "skipped"
    )


def test_a_release_of_a_simulated_internet_says_so_everywhere(released: Released) -> None:
    summary = json.loads((released.folder / "summary.json").read_text())
    package = json.loads((released.folder / "datapackage.json").read_text())
    assert summary["simulated"] is True and "SIMULATED" in summary["notice"]
    assert summary["run"]["simulated"] is True
    assert package["simulated"] is True and "SIMULATED" in package["title"]
    assert "SIMULATED DATA" in (released.folder / "CITATION.cff").read_text()
    assert "SIMULATED DATA" in (released.folder / "METHODOLOGY.md").read_text()
    for table in RELEASE_TABLES:
        meta = pq.read_schema(released.folder / "data" / f"{table}.parquet").metadata
        assert meta[b"simulated"] == b"true"
    assert "SIMULATED" in released.stderr


def test_the_summary_carries_versions_configuration_and_source_reads(released: Released) -> None:
    summary = json.loads((released.folder / "summary.json").read_text())
    assert summary["methodology_version"] and summary["census_version"]
    assert summary["configuration"]["simulated"] is True
    assert summary["configuration"]["crawl"]["concurrency"] == 48
    assert summary["source_reads"], "the testbed's registry mirrors were read"
    assert all(r["entries"] >= 0 for r in summary["source_reads"])
    methodology = (released.folder / "METHODOLOGY.md").read_text()
    for column in CLOSED_COLUMNS:
        assert f"### `{column}`" in methodology
    assert "two consecutive complete runs agree" in methodology
    citation = (released.folder / "CITATION.cff").read_text()
    assert citation.startswith("cff-version: 1.2.0") and "type: dataset" in citation


def test_releasing_again_or_an_incomplete_run_is_one_line_of_error(
    released: Released, tmp_path: Path
) -> None:
    again = census("release", "--out", str(released.folder.parent), env=released.env)
    assert again.returncode == 2
    assert "already exists" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    engine = make_engine(released.database_url, pool_size=1)
    try:
        with engine.begin() as conn:
            from census.store.runs import create_run

            stopped = create_run(conn, {"test": True})
            conn.execute(
                sa.text("UPDATE crawl_runs SET status = 'stopped' WHERE id = :id"), {"id": stopped}
            )
    finally:
        engine.dispose()
    done = census("release", "--run", str(stopped), "--out", str(tmp_path), env=released.env)
    assert done.returncode == 2
    assert "not complete" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_the_configuration_is_published_without_secrets() -> None:
    config = {
        "sources": ["smithery"],
        "smithery_key": "sk-live-123",
        "registry": "https://user:pw@registry.example/v0",
        "location": "https://registry.example/v0/servers?limit=5&api_key=k3y#x",
        "crawl": {"api_token": "t0k", "concurrency": 10},
    }
    clean = _scrub(config)
    text = json.dumps(clean)
    assert "sk-live-123" not in text and "t0k" not in text and "user:pw" not in text
    assert clean["location"] == "https://registry.example/v0/servers?limit=5&api_key=REDACTED#x"
    assert clean["crawl"]["concurrency"] == 10 and clean["sources"] == ["smithery"]
