"""``census export``: one table of the census as CSV, Parquet or JSON Lines, streamed.

Rows come from a server-side cursor in batches (:func:`census.report.frames.iter_batches`), and
each batch is written before the next is read, so a million rows export in the memory of one
batch.  CSV string cells are neutralised against formula injection; output going to a terminal
is stripped of control characters.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
from sqlalchemy.engine import Engine

from census.errors import UsageError
from census.report import queries
from census.report.frames import iter_batches
from census.report.safety import FORMULA_TRIGGERS, clean_text
from census.report.schema import TABLES, kind_of

__all__ = ["EXPORT_FORMATS", "ExportResult", "export_table"]

EXPORT_FORMATS = ("csv", "parquet", "jsonl")


@dataclass(frozen=True, slots=True)
class ExportResult:
    table: str
    run_id: int | None
    rows: int
    path: str


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if kind_of(c) in ("str", "category")]


_NEUTRALIZE_FIRST = (*FORMULA_TRIGGERS, "'")


def _csv_frame(df: pd.DataFrame, terminal: bool) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        kind = kind_of(column)
        if kind == "bool":
            out[column] = out[column].map({True: "true", False: "false"}).astype("object")
        elif kind == "str":
            text = out[column].astype("string")
            if terminal:
                text = text.map(clean_text, na_action="ignore").astype("string")
            # Vectorised neutralize_cell: the same rule, without a Python call per cell.
            risky = text.str.startswith(_NEUTRALIZE_FIRST).fillna(False)
            out[column] = text.where(~risky, "'" + text)
    return out


def _jsonl_frame(df: pd.DataFrame, terminal: bool) -> pd.DataFrame:
    if not terminal:
        return df
    out = df.copy()
    for column in _text_columns(out):
        text = out[column].astype("object")
        mask = text.notna()
        text[mask] = text[mask].map(clean_text)
        out[column] = text
    return out


def _write_text(batches: Any, fmt: str, stream: IO[str], terminal: bool) -> int:
    rows = 0
    for i, df in enumerate(batches):
        rows += len(df)
        if fmt == "csv":
            # CRLF (RFC 4180): with it the csv writer quotes any cell holding a bare CR too.
            _csv_frame(df, terminal).to_csv(
                stream, header=(i == 0), index=False, lineterminator="\r\n"
            )
        elif len(df):
            text = _jsonl_frame(df, terminal).to_json(
                orient="records", lines=True, date_format="iso", date_unit="us"
            )
            stream.write(text if text.endswith("\n") else text + "\n")
    return rows


def _write_parquet(batches: Any, path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for df in batches:
            table = pa.Table.from_pandas(
                df, schema=writer.schema if writer else None, preserve_index=False
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
            rows += len(df)
    finally:
        if writer is not None:
            writer.close()
    return rows


def export_table(
    engine: Engine,
    table: str,
    fmt: str,
    out: str | Path,
    run: int | str | None = None,
    *,
    batch_size: int = 20_000,
    stdout: IO[str] | None = None,
) -> ExportResult:
    """Write ``table`` of ``run`` to ``out`` (``-`` = standard output) in ``fmt``.

    Run-scoped tables (observations, tools) default to the latest run; endpoints and listings
    default to everything, or only the endpoints observed in ``run`` when one is given.
    """
    if table not in TABLES:
        raise UsageError(f"unknown table {table!r}: choose one of {', '.join(TABLES)}")
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")
    spec = TABLES[table]
    run_id: int | None = None
    if run is not None or spec.run_scoped:
        with engine.connect() as conn:
            run_id = queries.resolve_run(conn, run)
    batches = iter_batches(engine, table, run_id, batch_size)
    if str(out) == "-":
        if fmt == "parquet":
            raise UsageError("parquet is binary: give --out a file path")
        stream = stdout or sys.stdout
        rows = _write_text(batches, fmt, stream, terminal=stream.isatty())
        return ExportResult(table, run_id, rows, "-")
    path = Path(out)
    if fmt == "parquet":
        rows = _write_parquet(batches, path)
    else:
        with path.open("w", encoding="utf-8", newline="") as f:
            rows = _write_text(batches, fmt, f, terminal=False)
    return ExportResult(table, run_id, rows, str(path))
