"""The pandas API for notebooks: runs, observations, tools and listings as typed DataFrames.

Example::

    from census.report import frames
    f = frames()                    # the latest run of the configured database
    f.observations.status.value_counts()

Dtypes: closed vocabulary columns are categoricals whose categories are the whole vocabulary (so
a value absent from one run still appears with count 0); counts are ``Int64``, flags
``boolean``, timestamps ``datetime64[us, UTC]``, text ``string`` — all nullable, because an empty
cell means "not determinable".  Exports read back with :func:`read_export` get the same dtypes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from census.report import queries
from census.report.safety import unneutralize_cell
from census.report.schema import SIMULATED_SQL, TABLES, kind_of
from census.vocabulary import CLOSED_COLUMNS

__all__ = [
    "Frames",
    "coerce",
    "dtype_of",
    "frames",
    "iter_batches",
    "read_export",
    "run_frames",
]

_RUNS_SQL = (
    "SELECT r.id, r.status, r.methodology_version, r.census_version, r.endpoint_total,"
    " r.created_at, r.started_at, r.finished_at,"
    " (SELECT count(*) FROM observations o WHERE o.run_id = r.id) AS observed,"
    f" {SIMULATED_SQL} AS simulated"
    " FROM crawl_runs r ORDER BY r.id"
)


def dtype_of(column: str) -> Any:
    """The pandas dtype of an exported column."""
    kind = kind_of(column)
    if kind == "category":
        return pd.CategoricalDtype([v.value for v in CLOSED_COLUMNS[column]])
    return {
        "int": "Int64",
        "bool": "boolean",
        "datetime": "datetime64[us, UTC]",
        "float": "Float64",
        "str": "string",
    }[kind]


_BOOL_TEXT = {"true": True, "false": False, "True": True, "False": False}


def _bool_series(s: pd.Series) -> pd.Series:
    if s.dtype == "boolean":
        return s
    try:
        return s.astype("boolean")  # True/False/None straight from the database
    except (TypeError, ValueError):
        return s.astype("object").map(_BOOL_TEXT).astype("boolean")  # text from CSV / JSON


def _numeric(s: pd.Series, dtype: str) -> pd.Series:
    try:
        return s.astype(dtype)  # ints/floats/None straight from the database
    except (TypeError, ValueError):
        return pd.to_numeric(s).astype(dtype)  # text from CSV


def _datetime(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return pd.to_datetime(s, utc=True, format="ISO8601").astype("datetime64[us, UTC]")


def coerce(df: pd.DataFrame, kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """``df`` with every column cast to its export dtype; ``kinds`` overrides a column's kind.

    Missing values must already be ``None``/NA (readers turn empty CSV cells into ``None``).
    """
    out = {}
    for column in df.columns:
        s = df[column]
        kind = (kinds or {}).get(column) or kind_of(column)
        if kind == "bool":
            out[column] = _bool_series(s)
        elif kind == "int":
            out[column] = _numeric(s, "Int64")
        elif kind == "float":
            out[column] = _numeric(s, "Float64")
        elif kind == "datetime":
            out[column] = _datetime(s)
        elif kind == "category":
            out[column] = s.astype("object").astype(dtype_of(column))
        else:
            out[column] = s.astype("string")
    return pd.DataFrame(out, columns=list(df.columns))


def iter_batches(
    engine: Engine, table: str, run_id: int | None, batch_size: int = 20_000
) -> Iterator[pd.DataFrame]:
    """The rows of an export table as typed DataFrames of at most ``batch_size`` rows.

    A server-side cursor streams the rows, so memory stays bounded by one batch.
    """
    spec = TABLES[table]
    derive = _derivation(spec.derive)
    with engine.connect() as conn:
        now = _as_of(conn, run_id)
        conn = conn.execution_options(stream_results=True, yield_per=batch_size)
        result = conn.execute(sa.text(spec.sql), {"run": run_id})
        produced = False
        for rows in result.partitions(batch_size):
            produced = True
            if derive is None:
                yield coerce(pd.DataFrame.from_records(rows, columns=list(spec.columns)))
            else:
                queried = pd.DataFrame.from_records(rows, columns=list(spec.query_columns))
                yield coerce(derive(queried, now))
        if not produced:
            yield coerce(pd.DataFrame({c: pd.Series([], dtype=object) for c in spec.columns}))


def _derivation(name: str | None) -> Callable[[pd.DataFrame, datetime], pd.DataFrame] | None:
    if name is None:
        return None
    import importlib

    module, _, function = name.partition(":")
    derive: Callable[[pd.DataFrame, datetime], pd.DataFrame] = getattr(
        importlib.import_module(module), function
    )
    return derive


def _as_of(conn: sa.Connection, run_id: int | None) -> datetime:
    """The time a derived table is computed at: the run's creation, else the present."""
    created = None
    if run_id is not None:
        created = conn.execute(
            sa.text("SELECT created_at FROM crawl_runs WHERE id = :id"), {"id": run_id}
        ).scalar()
    return created if isinstance(created, datetime) else datetime.now(UTC)


def _table(engine: Engine, table: str, run_id: int | None) -> pd.DataFrame:
    return pd.concat(list(iter_batches(engine, table, run_id)), ignore_index=True)


@dataclass(frozen=True, slots=True)
class Frames:
    """One run as DataFrames, plus every run's summary."""

    run_id: int
    runs: pd.DataFrame
    observations: pd.DataFrame
    tools: pd.DataFrame
    listings: pd.DataFrame
    endpoints: pd.DataFrame


def run_frames(engine: Engine, run: int | str | None = "latest") -> Frames:
    """The DataFrames of ``run`` read through ``engine``."""
    with engine.connect() as conn:
        run_id = queries.resolve_run(conn, run)
        runs = pd.read_sql_query(sa.text(_RUNS_SQL), conn)
    # A run's status is the queue's (pending … complete), not the vocabulary's Status.
    runs = coerce(runs, {"status": "str", "observed": "int", "simulated": "bool"})
    return Frames(
        run_id=run_id,
        runs=runs,
        observations=_table(engine, "observations", run_id),
        tools=_table(engine, "tools", run_id),
        listings=_table(engine, "listings", run_id),
        endpoints=_table(engine, "endpoints", run_id),
    )


def frames(
    run: int | str | None = "latest",
    *,
    engine: Engine | None = None,
    database_url: str | None = None,
) -> Frames:
    """The DataFrames of a run: through ``engine``, or ``database_url``, or the configured
    database (``DATABASE_URL`` / the embedded server, as the ``census`` command chooses)."""
    if engine is not None:
        return run_frames(engine, run)
    from census.store import make_engine, resolve_database

    if database_url is None:
        from census.config import load_settings

        database_url = resolve_database(load_settings()).url
    own = make_engine(database_url, pool_size=1)
    try:
        return run_frames(own, run)
    finally:
        own.dispose()


def read_export(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """An export file (``.csv``, ``.parquet``, ``.jsonl``) read back with the export dtypes.

    CSV cells neutralised against formula injection are restored to their original text.
    """
    p = Path(path)
    if p.suffix == ".parquet":
        return pd.read_parquet(p, columns=list(columns) if columns else None)
    if p.suffix == ".jsonl":
        df = pd.read_json(p, lines=True, dtype=False)
        df = df.astype(object).where(df.notna(), None)
    else:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False)
        for column in df.columns:
            if kind_of(column) == "str":
                df[column] = df[column].map(unneutralize_cell)
        df = df.replace("", None)
    if columns:
        df = df[list(columns)]
    return coerce(df)
