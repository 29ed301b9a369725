"""``census release``: write one complete run as a dated, citable folder.

Layout of ``OUT/census-<run date>-run<ID>/``::

    data/observations.csv  data/observations.parquet     one row per endpoint observed
    data/endpoints.csv     data/endpoints.parquet        the endpoints observed in the run
    data/tools.csv         data/tools.parquet            every tool each endpoint listed
    data/listings.csv      data/listings.parquet         the discovery listings of those endpoints
    datapackage.json       Frictionless Data Package: every field typed and described
    summary.json           headline with 95% Wilson intervals, comparisons, versions, config
    METHODOLOGY.md         the definitions, generated from the vocabulary
    CITATION.cff           how to cite the release
    SHA256SUMS             SHA-256 of every other file (``sha256sum -c SHA256SUMS``)

The files are written by the export writers (:mod:`census.report.export`: streamed, bounded
memory, CSV cells neutralised against formula injection) into a hidden temporary folder that is
renamed into place only when complete, so a failed release leaves nothing half-written.  Only a
complete run is released: a stopped run's figures describe an arbitrary subset.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from census import METHODOLOGY_VERSION, __version__
from census.errors import UsageError
from census.release.methodology import headline_definitions, methodology_markdown
from census.report import queries
from census.report.build import build_report
from census.report.diff import DEBOUNCE_RULE, require_complete
from census.report.export import export_table
from census.report.model import Report, RunInfo
from census.report.render import SIMULATED_NOTICE
from census.report.schema import DESCRIPTIONS, TABLES, kind_of
from census.report.stats import share_interval
from census.vocabulary import CLOSED_COLUMNS

__all__ = ["RELEASE_TABLES", "SIMULATED_NOTICE", "Release", "build_release", "release_name"]

#: The tables a release carries, in datapackage order.
RELEASE_TABLES = ("observations", "endpoints", "tools", "listings")

#: Each table's primary key (checked by a Data Package validator).
_PRIMARY_KEYS: dict[str, list[str]] = {
    "observations": ["url"],
    "endpoints": ["url"],
    "tools": ["url", "position"],
    "listings": ["source", "url"],
}

_SECRET_KEY = re.compile(r"key|token|secret|password|passwd|credential|auth", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_URL_SECRET_PARAM = re.compile(
    r"([?&][^=&#\s]*(?:key|token|secret|password|signature)[^=&#\s]*=)[^&#\s]+", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Release:
    """What ``build_release`` wrote."""

    run_id: int
    folder: Path
    rows: dict[str, int]
    files: tuple[str, ...]
    simulated: bool


def release_name(run: RunInfo) -> str:
    """``census-<run date>-run<ID>``: the run's start date (UTC), else its creation date."""
    when = run.started_at or run.created_at or datetime.now(UTC)
    return f"census-{when.astimezone(UTC):%Y-%m-%d}-run{run.id}"


def _scrub(value: Any) -> Any:
    """The run configuration without secrets: credential-like keys and URL user-info hidden."""
    if isinstance(value, Mapping):
        return {
            k: ("REDACTED" if _SECRET_KEY.search(str(k)) and v else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return _URL_SECRET_PARAM.sub(r"\1REDACTED", _URL_USERINFO.sub("REDACTED@", value))
    return value


def _field(column: str) -> dict[str, Any]:
    kind = kind_of(column)
    field: dict[str, Any] = {
        "name": column,
        "type": {
            "int": "integer",
            "bool": "boolean",
            "datetime": "datetime",
            "float": "number",
        }.get(kind, "string"),
        "description": DESCRIPTIONS.get(column, ""),
    }
    if kind == "bool":
        field["trueValues"] = ["true"]
        field["falseValues"] = ["false"]
    elif kind == "datetime":
        field["format"] = "any"  # ISO 8601 with a UTC offset, e.g. 2026-11-21 12:00:00+00:00
    elif kind == "category":
        field["constraints"] = {"enum": [str(v) for v in CLOSED_COLUMNS[column]]}
    if column == "attempts":  # probed once, or confirmed (census.vocabulary.VERDICT_RULE)
        field["constraints"] = {"required": True, "minimum": 1, "maximum": 2}
    return field


def _resources(rows: dict[str, int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for table in RELEASE_TABLES:
        schema: dict[str, Any] = {
            "fields": [_field(c) for c in TABLES[table].columns],
            "missingValues": [""],
            "primaryKey": _PRIMARY_KEYS[table],
        }
        described = {
            "description": f"{TABLES[table].name} of the run ({rows[table]:,} rows)",
            "profile": "tabular-data-resource",
        }
        csv_schema = dict(schema)
        if table != "endpoints":
            csv_schema["foreignKeys"] = [
                {"fields": ["url"], "reference": {"resource": "endpoints", "fields": ["url"]}}
            ]
        out.append(
            {
                "name": table,
                "path": f"data/{table}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                **described,
                "schema": csv_schema,
            }
        )
        out.append(
            {
                "name": f"{table}-parquet",
                "path": f"data/{table}.parquet",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                **described,
                "schema": schema,
            }
        )
    return out


def _headline(report: Report) -> list[dict[str, Any]]:
    """The headline figures, every share with its 95% Wilson interval and its definition."""
    definitions = headline_definitions()
    out = []
    for figure in report.headline:
        data = figure.as_json()
        if figure.percent is not None and figure.numerator is not None:
            data["ci_low"], data["ci_high"] = share_interval(
                int(figure.numerator), figure.denominator
            )
        data["definition"] = definitions.get(figure.metric)
        out.append(data)
    return out


_SOURCE_READS_SQL = """
SELECT DISTINCT ON (s.id) s.name, s.kind, s.location, sr.started_at, sr.finished_at, sr.since,
  sr.entries, sr.remote_urls, sr.new_endpoints, sr.duplicates, sr.rejected, sr.error
FROM source_reads sr JOIN sources s ON s.id = sr.source_id
WHERE sr.started_at <= :created
  AND s.id IN (SELECT l.source_id FROM listings l JOIN observations o
               ON o.endpoint_id = l.endpoint_id AND o.run_id = :run)
ORDER BY s.id, sr.started_at DESC
"""


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _run_row(engine: Engine, run: int | str | None) -> tuple[int, dict[str, Any], list[Any]]:
    with engine.connect() as conn:
        run_id = queries.resolve_run(conn, run)
        require_complete(conn, run_id)
        row = (
            conn.execute(
                sa.text(
                    "SELECT config, counts, timings, created_at FROM crawl_runs WHERE id = :id"
                ),
                {"id": run_id},
            )
            .mappings()
            .one()
        )
        reads = [
            {k: _iso(v) for k, v in r.items()}
            for r in conn.execute(
                sa.text(_SOURCE_READS_SQL), {"run": run_id, "created": row["created_at"]}
            ).mappings()
        ]
    return run_id, dict(row), reads


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _citation(name: str, report: Report, released: datetime) -> str:
    run = report.run
    title = f"census of public MCP endpoints, run {run.id}"
    if run.simulated:
        title += " (SIMULATED DATA)"
    when = run.finished_at or run.started_at or run.created_at or released
    return "\n".join(
        [
            "cff-version: 1.2.0",
            'message: "If you use this data, please cite it as below."',
            "type: dataset",
            f"title: {json.dumps(title)}",
            f"version: {json.dumps(name)}",
            f"date-released: {when.astimezone(UTC):%Y-%m-%d}",
            "authors:",
            '  - name: "census contributors"',
            f"abstract: {json.dumps(_abstract(report))}",
            "keywords:",
            '  - "Model Context Protocol"',
            '  - "MCP"',
            '  - "internet measurement"',
            '  - "census"',
            "",
        ]
    )


def _abstract(report: Report) -> str:
    run = report.run
    text = (
        f"One complete crawl (run {run.id}) of {run.observed:,} MCP endpoints by census"
        f" {run.census_version}, methodology {run.methodology_version}: one observation per"
        " endpoint in the census vocabulary, with the tools and discovery listings."
    )
    return (SIMULATED_NOTICE + " " + text) if run.simulated else text


def build_release(
    engine: Engine, run: int | str | None, out_dir: str | Path, *, now: datetime | None = None
) -> Release:
    """Write the release of ``run`` (id or ``latest``; it must be complete) under ``out_dir``."""
    run_id, row, reads = _run_row(engine, run)
    report = build_report(engine, run_id)
    name = release_name(report.run)
    out = Path(out_dir)
    folder = out / name
    if folder.exists():
        raise UsageError(f"{folder} already exists: remove it or choose another --out")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    released = now or datetime.now(UTC)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
    try:
        (work / "data").mkdir()
        rows: dict[str, int] = {}
        for table in RELEASE_TABLES:
            for fmt in ("csv", "parquet"):
                path = work / "data" / f"{table}.{fmt}"
                rows[table] = export_table(engine, table, fmt, path, run_id, sidecar=False).rows
        simulated = report.run.simulated
        package = {
            "profile": "tabular-data-package",
            "name": name,
            "title": f"census of public MCP endpoints, run {run_id}"
            + (" (SIMULATED DATA)" if simulated else ""),
            "description": _abstract(report),
            "version": name,
            "created": released.isoformat(),
            "simulated": simulated,
            "census_version": report.run.census_version,
            "methodology_version": report.run.methodology_version,
            "run_id": run_id,
            "resources": _resources(rows),
        }
        _write_json(work / "datapackage.json", package)
        report_json = report.as_json()
        summary = {
            "release": name,
            "created": released.isoformat(),
            "simulated": simulated,
            "notice": SIMULATED_NOTICE if simulated else None,
            "run": {**report.run.as_json(), "counts": row["counts"], "timings": row["timings"]},
            "methodology_version": report.run.methodology_version,
            "census_version": report.run.census_version,
            "released_by": {"census_version": __version__, "methodology": METHODOLOGY_VERSION},
            "denominators": report_json.get("denominators"),
            "headline": _headline(report),
            "comparisons": report_json.get("comparisons"),
            "changes_rule": DEBOUNCE_RULE,
            "configuration": _scrub(row["config"]),
            "source_reads": _scrub(reads),
            "rows": rows,
        }
        _write_json(work / "summary.json", summary)
        (work / "METHODOLOGY.md").write_text(
            methodology_markdown(report, SIMULATED_NOTICE if simulated else None),
            encoding="utf-8",
        )
        (work / "CITATION.cff").write_text(_citation(name, report, released), encoding="utf-8")
        files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        sums = "".join(f"{_sha256(work / f)}  {f}\n" for f in files)
        (work / "SHA256SUMS").write_text(sums, encoding="utf-8")
        work.chmod(0o755)  # mkdtemp made it private; a release is meant to be read
        work.rename(folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Release(run_id, folder, rows, (*files, "SHA256SUMS"), simulated)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
