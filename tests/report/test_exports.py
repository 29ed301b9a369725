"""Exports round-trip: CSV → pandas gives the database's values; Parquet keeps the dtypes; CSV
cells are safe against formula injection; terminals never receive control characters."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from rich.console import Console

from census.report import build_report, export_table, print_report, read_export, run_frames
from census.report.safety import FORMULA_TRIGGERS, clean_text
from census.report.schema import TABLES
from census.vocabulary import COLUMNS
from tests.report.conftest import Crawl, new_run, observe

HOSTILE_NAMES = [
    '=HYPERLINK("http://evil.example/","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tleading tab",
    "\rleading cr",
    "'already quoted",
    "'=quoted formula",
    "plain-name",
]


def _frame(engine: sa.Engine, table: str, run_id: int) -> pd.DataFrame:
    f = run_frames(engine, run_id)
    return {
        "observations": f.observations,
        "tools": f.tools,
        "listings": f.listings,
        "endpoints": f.endpoints,
    }[table]


@pytest.mark.parametrize("table", ["observations", "tools", "endpoints", "listings"])
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_an_export_of_a_crawl_reads_back_with_the_same_values_and_dtypes(
    crawl: Crawl, crawl_engine: sa.Engine, tmp_path: Path, table: str, fmt: str
) -> None:
    path = tmp_path / f"{table}.{fmt}"
    result = export_table(crawl_engine, table, fmt, path, crawl.run_id, batch_size=50)
    expected = _frame(crawl_engine, table, crawl.run_id)
    assert result.rows == len(expected) > 0
    back = read_export(path)
    assert list(back.columns) == list(TABLES[table].columns)
    pd.testing.assert_frame_equal(back, expected)
    if "sources" in back.columns:  # the ;-joined source names survive the round trip
        assert set(back["sources"]) == {"official", "official;smithery"}


def test_parquet_read_by_plain_pandas_has_the_dtypes_of_the_frames_api(
    crawl: Crawl, crawl_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "observations.parquet"
    export_table(crawl_engine, "observations", "parquet", path, crawl.run_id, batch_size=37)
    back = pd.read_parquet(path)
    expected = run_frames(crawl_engine, crawl.run_id).observations
    assert list(back.columns) == list(COLUMNS)
    assert dict(back.dtypes) == dict(expected.dtypes)
    pd.testing.assert_frame_equal(back, expected)


def test_observation_csv_columns_are_exactly_the_vocabulary_columns(
    crawl: Crawl, crawl_engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "o.csv"
    export_table(crawl_engine, "observations", "csv", path, crawl.run_id)
    with path.open(newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == COLUMNS


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_neutralised_and_restored(
    engine: sa.Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        run_id = new_run(conn)
        for i, name in enumerate(HOSTILE_NAMES):
            observe(
                conn,
                run_id,
                f"https://h{i}.example/mcp",
                "healthy",
                auth_class="none",
                server_name=name,
                server_version=name,
                tls_days_left=-3,
            )
    path = tmp_path / "o.csv"
    export_table(engine, "observations", "csv", path, run_id)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(HOSTILE_NAMES)
    for row in rows:
        for column in ("server_name", "server_version"):
            assert not row[column].startswith(FORMULA_TRIGGERS), row[column]
        assert row["tls_days_left"] == "-3"  # numbers stay numbers
    back = read_export(path)
    assert sorted(back["server_name"]) == sorted(HOSTILE_NAMES)
    assert (back["tls_days_left"] == -3).all()


CONTROL = "\x1b[2J\x1b]0;pwned\x07evil\x08name\u202eslurp\x9b31m"


def _has_controls(text: str) -> bool:
    return any(
        (ord(ch) < 0x20 and ch != "\n") or 0x7F <= ord(ch) < 0xA0 or 0x202A <= ord(ch) <= 0x202E
        for ch in text
    )


def test_clean_text_drops_escape_sequences_and_control_characters() -> None:
    assert clean_text(CONTROL) == "evilnameslurp31m"
    assert not _has_controls(clean_text(CONTROL))
    assert clean_text("a\nb", keep_newlines=True) == "a\nb"
    assert clean_text("a\nb\tc") == "a b c"


def test_the_terminal_report_never_prints_a_control_character(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        run_id = new_run(conn)
        observe(
            conn,
            run_id,
            "https://ctl.example/mcp",
            "healthy",
            auth_class="none",
            server_name=CONTROL,
            tool_count=1,
            tool_tokens=10,
        )
    buf = io.StringIO()
    print_report(build_report(engine, run_id), Console(file=buf, width=200, color_system=None))
    out = buf.getvalue()
    assert "evilnameslurp31m" in out  # shown (top servers by tokens), but defused
    assert not _has_controls(out)


def test_an_export_to_a_terminal_is_stripped_of_control_characters(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        run_id = new_run(conn)
        observe(
            conn,
            run_id,
            "https://ctl.example/mcp",
            "healthy",
            auth_class="none",
            server_name=CONTROL,
        )
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "w", encoding="utf-8", closefd=False) as tty:
            assert tty.isatty()
            export_table(engine, "observations", "jsonl", "-", run_id, stdout=tty)
            tty.flush()
        out = os.read(master, 1 << 16).decode("utf-8").replace("\r\n", "\n")
    finally:
        os.close(slave)
        os.close(master)
    assert "evilnameslurp31m" in out
    assert not _has_controls(out)


def test_exports_of_a_simulated_run_say_so_in_parquet_metadata_and_a_sidecar(
    crawl: Crawl, crawl_engine: sa.Engine, tmp_path: Path
) -> None:
    import json

    import pyarrow.parquet as pq

    from census.report.export import sidecar_path

    # The fixture crawls a simulated internet, so its run configuration names the testbed.
    result = export_table(crawl_engine, "observations", "parquet", tmp_path / "o.parquet")
    assert result.simulated
    meta = pq.read_schema(tmp_path / "o.parquet").metadata
    assert meta[b"simulated"] == b"true"
    assert meta[b"run_id"] == str(crawl.run_id).encode() and b"pandas" in meta
    for fmt in ("csv", "jsonl"):
        path = tmp_path / f"o.{fmt}"
        export_table(crawl_engine, "observations", fmt, path, crawl.run_id)
        side = json.loads(sidecar_path(path).read_text())
        assert side["simulated"] == "true" and side["file"] == path.name
        assert side["rows"] == str(result.rows)
    assert build_report(crawl_engine, crawl.run_id).as_json()["simulated"] is True


def test_exports_of_a_real_run_are_marked_not_simulated(engine: sa.Engine, tmp_path: Path) -> None:
    import json

    import pyarrow.parquet as pq

    from census.report.export import sidecar_path

    with engine.begin() as conn:
        run_id = new_run(conn)  # a configuration without a testbed: the real internet
        observe(conn, run_id, "https://real.example/mcp", "healthy", auth_class="none")
    assert not export_table(engine, "endpoints", "parquet", tmp_path / "e.parquet").simulated
    assert pq.read_schema(tmp_path / "e.parquet").metadata[b"simulated"] == b"false"
    export_table(engine, "observations", "csv", tmp_path / "o.csv", run_id)
    assert json.loads(sidecar_path(tmp_path / "o.csv").read_text())["simulated"] == "false"
    report = build_report(engine, run_id).as_json()
    assert report["simulated"] is False and report["run"]["simulated"] is False
