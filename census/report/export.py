"""``census export``: one table of the census as CSV, Parquet or JSON Lines, streamed.

Rows come from a server-side cursor in batches (:func:`census.report.frames.iter_batches`), and
each batch is written before the next is read, so a million rows export in the memory of one
batch.  CSV string cells are neutralised against formula injection; output going to a terminal
is stripped of control characters.

Every export says whether its data came from a simulated internet (see
:data:`census.report.schema.SIMULATED_SQL`): a Parquet file in its key-value metadata
(``simulated`` = ``true``/``false``, beside ``census_version``, ``run_id`` and ``table``), a CSV or
JSON Lines file in a sidecar ``<file>.meta.json`` holding the same keys — a sidecar rather than a
column, so the files keep exactly the vocabulary's columns.  An export of all runs (endpoints,
listings without ``--run``) is marked simulated when any run in the database is.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from census import METHODOLOGY_VERSION, __version__
from census.errors import UsageError
from census.report import queries
from census.report.frames import iter_batches
from census.report.safety import FORMULA_TRIGGERS, clean_text
from census.report.schema import SIMULATED_SQL, TABLES, kind_of

__all__ = [
    "EXPORT_FORMATS",
    "ExportResult",
    "export_metadata",
    "export_table",
    "sidecar_path",
    "simulated_data",
]

EXPORT_FORMATS = ("csv", "parquet", "jsonl")


@dataclass(frozen=True, slots=True)
class ExportResult:
    table: str
    run_id: int | None
    rows: int
    path: str
    simulated: bool = False


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


def simulated_data(conn: Connection, run_id: int | None) -> bool:
    """Whether run ``run_id`` (or, for ``None``, any run in the database) was simulated."""
    where = "r.id = :id" if run_id is not None else "true"
    found = conn.execute(
        sa.text(f"SELECT 1 FROM crawl_runs r WHERE {where} AND ({SIMULATED_SQL}) LIMIT 1"),
        {"id": run_id},
    ).first()
    return found is not None


def export_metadata(table: str, run_id: int | None, simulated: bool) -> dict[str, str]:
    """The key-value metadata of an export (Parquet metadata, the CSV/JSONL sidecar)."""
    return {
        "table": table,
        "run_id": "" if run_id is None else str(run_id),
        "simulated": "true" if simulated else "false",
        "census_version": __version__,
        "methodology_version": METHODOLOGY_VERSION,
    }


def sidecar_path(path: str | Path) -> Path:
    """Where the metadata of a CSV or JSON Lines export is written: ``<file>.meta.json``."""
    return Path(f"{path}.meta.json")


def _write_parquet(batches: Any, path: Path, metadata: dict[str, str] | None = None) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0
    writer: pq.ParquetWriter | None = None
    extra = {k.encode(): v.encode() for k, v in (metadata or {}).items()}
    try:
        for df in batches:
            table = pa.Table.from_pandas(
                df, schema=writer.schema if writer else None, preserve_index=False
            )
            if writer is None:
                schema = table.schema.with_metadata({**(table.schema.metadata or {}), **extra})
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(table.replace_schema_metadata(writer.schema.metadata))
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
    sidecar: bool = True,
) -> ExportResult:
    """Write ``table`` of ``run`` to ``out`` (``-`` = standard output) in ``fmt``.

    Run-scoped tables (observations, tools) default to the latest run; endpoints and listings
    default to everything, or only the endpoints observed in ``run`` when one is given.  A CSV
    or JSON Lines file gets its ``.meta.json`` sidecar unless ``sidecar`` is false (a release
    describes its files in its own ``datapackage.json``).
    """
    if table not in TABLES:
        raise UsageError(f"unknown table {table!r}: choose one of {', '.join(TABLES)}")
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}")
    spec = TABLES[table]
    run_id: int | None = None
    with engine.connect() as conn:
        if run is not None or spec.run_scoped:
            run_id = queries.resolve_run(conn, run)
        simulated = simulated_data(conn, run_id)
    metadata = export_metadata(table, run_id, simulated)
    batches = iter_batches(engine, table, run_id, batch_size)
    if str(out) == "-":
        if fmt == "parquet":
            raise UsageError("parquet is binary: give --out a file path")
        stream = stdout or sys.stdout
        rows = _write_text(batches, fmt, stream, terminal=stream.isatty())
        return ExportResult(table, run_id, rows, "-", simulated)
    path = Path(out)
    if fmt == "parquet":
        rows = _write_parquet(batches, path, metadata)
    else:
        with path.open("w", encoding="utf-8", newline="") as f:
            rows = _write_text(batches, fmt, f, terminal=False)
        if sidecar:
            meta = {**metadata, "rows": str(rows), "format": fmt, "file": path.name}
            sidecar_path(path).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return ExportResult(table, run_id, rows, str(path), simulated)
