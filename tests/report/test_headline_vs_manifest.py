"""Done-when: on a crawl of the simulated internet, every headline figure of
``census report --format json`` equals the figure computed from the ground-truth manifest.

The expected figures are computed here, in plain Python, from ``manifest.csv`` rows (restricted
to the URLs the run observed) and — for token cost — from the testbed's own tool definitions,
tokenized independently; the report computes them in SQL from what the crawler observed.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

import bpe_openai
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from census.report.cli import register
from census.report.stats import wilson
from census.testbed import inventory
from tests.report.conftest import Crawl

ANSWERING = {"healthy", "degraded", "auth_required"}
CONFIRMED = {"healthy", "degraded"}


def _report_json(database_url: str, *args: str) -> dict[str, Any]:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps typer in multi-command mode
    result = CliRunner().invoke(
        app, ["report", "--format", "json", *args], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _observed(crawl: Crawl) -> dict[str, dict[str, Any]]:
    engine = sa.create_engine(crawl.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT e.url, o.status, o.failure_reason, o.auth_class, o.cors_class,"
                    " o.rate_limit_class, o.tool_count, o.tool_tokens FROM observations o"
                    " JOIN endpoints e ON e.id = o.endpoint_id WHERE o.run_id = :r"
                ),
                {"r": crawl.run_id},
            ).mappings()
            return {r["url"]: dict(r) for r in rows}
    finally:
        engine.dispose()


def _tokens(tools: Any) -> int:
    enc = bpe_openai.get_encoding("o200k_base")
    return sum(
        len(
            enc.encode_ordinary(
                json.dumps(t, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            )
        )
        for t in tools
    )


def _share(metric: str, num: int, den: int, label: str) -> dict[str, Any]:
    pct = round(100.0 * num / den, 2) if den else None
    return {
        "metric": metric,
        "numerator": num,
        "denominator": den,
        "denominator_label": label,
        "percent": pct,
    }


def _stat(metric: str, values: list[int], mean: bool) -> dict[str, Any]:
    n = len(values)
    if not n:
        return {"metric": metric, "numerator": None, "denominator": 0, "value": None}
    value = sum(values) / n if mean else statistics.median(values)
    return {
        "metric": metric,
        "numerator": float(sum(values)) if mean else None,
        "denominator": n,
        "denominator_label": "with_tools",
        "percent": None,
        "value": round(float(value), 2),
    }


def expected_figures(crawl: Crawl, observed: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The headline as the manifest says it should be, for the URLs the run observed."""
    rows = [m for m in crawl.manifest if m["url"] in observed]
    by_url = {ep.url: ep for ep in crawl.endpoints}
    st = [m["status"] for m in rows]
    probed = sum(s != "skipped" for s in st)
    reachable = sum(s not in ("skipped", "unreachable") for s in st)
    answering = [m for m in rows if m["status"] in ANSWERING]
    reach_rows = [m for m in rows if m["status"] not in ("skipped", "unreachable")]

    def count(rs: list[dict[str, str]], col: str, values: set[str]) -> int:
        return sum(m[col] in values for m in rs)

    tool_counts: list[int] = []
    token_costs: list[int] = []
    for m in rows:
        if m["status"] not in CONFIRMED or m["tool_count"] == "":
            continue
        if m["tool_count"] == "*":  # "not checked" in the manifest: the prober's page cap decides
            if observed[m["url"]]["tool_count"] is None:
                continue
            tool_counts.append(observed[m["url"]]["tool_count"])
            token_costs.append(observed[m["url"]]["tool_tokens"])
            continue
        ep = by_url[m["url"]]
        tool_counts.append(int(m["tool_count"]))
        tools = inventory.tools(ep.seed, ep.profile.tools or 0, ep.profile.behaviour == "nul_ansi")
        token_costs.append(_tokens(tools))
    n_ans = len(answering)
    return [
        {
            "metric": "endpoints_studied",
            "numerator": len(rows),
            "denominator": len(rows),
            "percent": None,
            "value": len(rows),
        },
        # Confirmed failures only (a flapping endpoint is no failure; census.vocabulary).
        _share(
            "failure_rate",
            sum(
                m["status"] in ("unreachable", "http_error", "not_mcp") and m["flapping"] != "true"
                for m in rows
            ),
            probed,
            "probed",
        ),
        _share("flapping", sum(m["flapping"] == "true" for m in rows), probed, "probed"),
        _share("fully_healthy", st.count("healthy"), probed, "probed"),
        _share("auth_none", count(answering, "auth_class", {"none"}), n_ans, "mcp_answering"),
        _share(
            "auth_static_key_or_bearer",
            count(answering, "auth_class", {"api_key", "bearer"}),
            n_ans,
            "mcp_answering",
        ),
        _share(
            "auth_oauth_complete", count(answering, "auth_class", {"oauth"}), n_ans, "mcp_answering"
        ),
        _share(
            "auth_oauth_partial",
            count(answering, "auth_class", {"oauth_partial"}),
            n_ans,
            "mcp_answering",
        ),
        _share(
            "auth_other", count(answering, "auth_class", {"other_auth"}), n_ans, "mcp_answering"
        ),
        _share(
            "cors_wildcard", count(answering, "cors_class", {"wildcard"}), n_ans, "mcp_answering"
        ),
        _share(
            "cors_open",
            count(answering, "cors_class", {"wildcard", "reflect", "reflect_credentials"}),
            n_ans,
            "mcp_answering",
        ),
        _share(
            "cors_reflect_credentials",
            count(answering, "cors_class", {"reflect_credentials"}),
            n_ans,
            "mcp_answering",
        ),
        _share(
            "rate_limit_advertised",
            count(reach_rows, "rate_limit_class", {"advertised"}),
            reachable,
            "reachable",
        ),
        _share(
            "rate_limit_enforced",
            count(reach_rows, "rate_limit_class", {"enforced"}),
            reachable,
            "reachable",
        ),
        _share(
            "rate_limiting",
            count(answering, "rate_limit_class", {"enforced", "advertised"}),
            n_ans,
            "mcp_answering",
        ),
        _share("tools_over_30", sum(c > 30 for c in tool_counts), len(tool_counts), "with_tools"),
        _stat("tools_mean", tool_counts, mean=True),
        _stat("tools_median", tool_counts, mean=False),
        _stat("tool_tokens_mean", token_costs, mean=True),
        _stat("tool_tokens_median", token_costs, mean=False),
        {
            "metric": "tool_tokens_total",
            "numerator": float(sum(token_costs)),
            "denominator": len(token_costs),
            "value": float(sum(token_costs)),
        },
    ]


def _classification_diffs(crawl: Crawl, observed: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    for m in crawl.manifest:
        o = observed.get(m["url"])
        if o is None:
            continue
        for col in ("status", "failure_reason", "auth_class", "cors_class", "rate_limit_class"):
            if (o[col] or "") != m[col]:
                out.append(f"{m['profile']}: {col} observed {o[col]!r}, manifest {m[col]!r}")
    return out


def test_every_headline_figure_equals_the_figure_computed_from_the_manifest(crawl: Crawl) -> None:
    report = _report_json(crawl.database_url, "--run", str(crawl.run_id))
    observed = _observed(crawl)
    assert report["run"]["id"] == crawl.run_id
    assert report["run"]["observed"] == len(observed) == len(crawl.manifest)
    got = {f["metric"]: f for f in report["headline"]}
    mismatches = []
    for want in expected_figures(crawl, observed):
        figure = got.pop(want["metric"])
        for key, value in want.items():
            if figure[key] != value:
                mismatches.append(
                    f"{want['metric']}.{key}: report {figure[key]!r}, manifest {value!r}"
                )
    assert not got, f"headline figures the test does not check: {sorted(got)}"
    assert not mismatches, "\n".join(
        [*mismatches, "classification differences:", *_classification_diffs(crawl, observed)]
    )


def test_every_share_in_the_json_headline_carries_numerator_and_denominator(
    crawl: Crawl,
) -> None:
    report = _report_json(crawl.database_url)
    assert report["run"]["id"] == crawl.run_id  # "latest" is the only, complete run
    for figure in report["headline"]:
        assert {"metric", "numerator", "denominator", "denominator_label", "percent"} <= set(figure)
        assert figure["denominator_label"] in report["denominators"]
        if figure["percent"] is not None:
            assert figure["numerator"] <= figure["denominator"]
            assert abs(figure["percent"] - 100 * figure["numerator"] / figure["denominator"]) < 0.01
            # Every share carries its 95% Wilson interval, in percent like the share.
            low, high = wilson(int(figure["numerator"]), figure["denominator"]) or (0, 0)
            assert (figure["ci_low"], figure["ci_high"]) == (
                round(100 * low, 2),
                round(100 * high, 2),
            ), figure["metric"]
        else:
            assert figure["ci_low"] is None and figure["ci_high"] is None
    keys = [b["key"] for b in report["breakdowns"]]
    assert keys == [
        "status",
        "era",
        "transport",
        "auth",
        "cors",
        "rate_limit",
        "tools",
        "tls",
        "sources",
        "domains",
        "platform",
        "top_tokens",
        "checklist",
        "maintenance_tier",
        "impersonation",
    ]
    by_key = {b["key"]: b for b in report["breakdowns"]}
    sources = {r["source"]: r["endpoints"] for r in by_key["sources"]["rows"]}
    n = report["run"]["observed"]
    assert sources["official"] == n and 0 < sources["smithery"] < n
    status_total = sum(r["endpoints"] for r in by_key["status"]["rows"])
    assert status_total == by_key["status"]["denominator"] == n
    # Every breakdown percentage carries its interval too.
    for b in report["breakdowns"]:
        for row in b["rows"]:
            for share in ("percent", "pass_rate"):
                if row.get(share) is not None:
                    assert row["ci_low"] <= row[share] <= row["ci_high"], (b["key"], row)
