"""Benchmark: ``census report`` over a generated run of N observations (default 1,000,000).

    CENSUS_HOME=/tmp/bench uv run python -m tests.report.bench_report [N]

Generates endpoints, listings and one complete run with SQL (generate_series) in the database the
``census`` command uses, then times the report (all SQL aggregates + JSON rendering) and a
streamed CSV export.  Not collected by pytest (the generation alone takes about a minute).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from census.config import load_settings
from census.report import build_report, export_table, to_json
from census.store import make_engine, migrate, resolve_database
from census.store.runs import create_run

STATUSES = "ARRAY['healthy','degraded','auth_required','not_mcp','http_error','unreachable']"

GENERATE = f"""
INSERT INTO observations (run_id, endpoint_id, probed_at, methodology_version, status,
  failure_reason, era, transport, protocol_version, session, server_name, auth_class,
  cors_class, origin_validated, rate_limit_class, tool_count, tool_tokens, tls, latency_ms,
  oauth_dcr, oauth_pkce_s256, findings)
SELECT :run, e.id, now(), 'bench', g.status,
  CASE g.status WHEN 'degraded' THEN 'list_failed' WHEN 'not_mcp' THEN 'http_404'
    WHEN 'http_error' THEN 'http_5xx' WHEN 'unreachable' THEN 'connect_refused' END,
  CASE WHEN g.status IN ('healthy','degraded') THEN (ARRAY['modern','handshake','dual',
    'legacy_sse'])[1 + e.id % 4] END,
  CASE WHEN g.status IN ('healthy','degraded') THEN 'streamable_http' END,
  CASE WHEN g.status IN ('healthy','degraded') THEN '2025-11-25' END,
  CASE WHEN g.status IN ('healthy','degraded') THEN 'stateless' END,
  CASE WHEN g.status IN ('healthy','degraded') THEN 'server-' || (e.id % 997) END,
  CASE WHEN g.status IN ('healthy','degraded') THEN 'none'
    WHEN g.status = 'auth_required' THEN (ARRAY['oauth','oauth_partial','bearer','api_key',
    'other_auth'])[1 + e.id % 5] END,
  CASE WHEN g.status IN ('healthy','degraded','auth_required') THEN (ARRAY['none','restricted',
    'wildcard','reflect','reflect_credentials'])[1 + e.id % 5] END,
  CASE WHEN g.status IN ('healthy','degraded') THEN e.id % 3 = 0 END,
  CASE WHEN g.status NOT IN ('unreachable') THEN (ARRAY['none_observed','advertised',
    'enforced'])[1 + e.id % 3] END,
  CASE WHEN g.status = 'healthy' THEN (e.id * 7) % 120 END,
  CASE WHEN g.status = 'healthy' THEN ((e.id * 7) % 120) * 97 END,
  CASE WHEN g.status = 'unreachable' THEN NULL WHEN e.id % 4 = 0 THEN 'none' ELSE 'valid' END,
  (e.id % 5000) / 10.0,
  CASE WHEN g.status = 'auth_required' AND e.id % 5 = 0 THEN e.id % 2 = 0 END,
  CASE WHEN g.status = 'auth_required' AND e.id % 5 = 0 THEN true END,
  CASE WHEN e.id % 4 = 0 THEN ARRAY['plain_http'] ELSE ARRAY[]::text[] END
FROM endpoints e
CROSS JOIN LATERAL (SELECT ({STATUSES})[1 + (e.id * 7919) % 6] AS status) g
WHERE e.url LIKE 'https://bench-%'
"""


# `census report` as a fresh process, through this package's own command registration (the
# same function census/cli.py calls), so interpreter start and imports are measured too.
CLI = "import typer; from census.report.cli import register; a = typer.Typer(); register(a); a()"


def _existing(engine: sa.Engine, n: int) -> int | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT r.id FROM crawl_runs r WHERE r.config->>'benchmark' = 'true'"
                " AND (SELECT count(*) FROM observations o WHERE o.run_id = r.id) = :n"
                " ORDER BY r.id DESC LIMIT 1"
            ),
            {"n": n},
        ).first()
    return None if row is None else int(row[0])


def main(n: int) -> None:
    target = resolve_database(load_settings())
    engine = make_engine(target.url, pool_size=1)
    migrate.upgrade(engine, target.display)
    run_id = _existing(engine, n) or _generate(engine, n)
    print(f"load average before timing: {os.getloadavg()}")
    for attempt in (1, 2, 3):
        t = time.perf_counter()
        text = to_json(build_report(engine, run_id))
        print(
            f"report (SQL + JSON, in process), attempt {attempt}: "
            f"{time.perf_counter() - t:.2f} s, {len(text):,} bytes"
        )
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in (1, 2):
            t = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CLI,
                    "report",
                    "--run",
                    str(run_id),
                    "--format",
                    "json",
                    "--out",
                    str(Path(tmp) / "r.json"),
                ],
                check=True,
            )
            print(
                f"`census report --format json` process, attempt {attempt}: "
                f"{time.perf_counter() - t:.2f} s"
            )
        t = time.perf_counter()
        result = export_table(engine, "observations", "csv", Path(tmp) / "o.csv", run_id)
        print(f"export observations csv: {result.rows:,} rows in {time.perf_counter() - t:.1f} s")
    print(f"load average after: {os.getloadavg()}")
    engine.dispose()


def _generate(engine: sa.Engine, n: int) -> int:
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO endpoints (url, host, registrable_domain, platform_host)"
                " SELECT 'https://bench-' || i || '.d' || (i % 40000) || '.example/mcp',"
                " 'bench-' || i || '.d' || (i % 40000) || '.example',"
                " 'd' || (i % 40000) || '.example', i % 9 = 0"
                " FROM generate_series(1, :n) i ON CONFLICT (url) DO NOTHING"
            ),
            {"n": n},
        )
        conn.execute(
            sa.text(
                "INSERT INTO sources (name, kind) VALUES ('bench-a', 'registry'),"
                " ('bench-b', 'list') ON CONFLICT (name) DO NOTHING"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO listings (source_id, endpoint_id) SELECT s.id, e.id FROM endpoints e"
                " JOIN sources s ON s.name = 'bench-a' OR (s.name = 'bench-b' AND e.id % 3 = 0)"
                " WHERE e.url LIKE 'https://bench-%' ON CONFLICT DO NOTHING"
            )
        )
        run_id = create_run(conn, {"benchmark": True}, n)
        conn.execute(sa.text(GENERATE), {"run": run_id})
        conn.execute(
            sa.text("UPDATE crawl_runs SET status = 'complete' WHERE id = :r"), {"r": run_id}
        )
    with engine.connect() as conn:
        conn.execute(sa.text(f"ANALYZE observations_r{run_id}"))
        conn.commit()
        observed = conn.execute(
            sa.text("SELECT count(*) FROM observations WHERE run_id = :r"), {"r": run_id}
        ).scalar_one()
    print(f"generated run {run_id}: {observed:,} observations in {time.perf_counter() - t0:.1f} s")
    return int(run_id)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
