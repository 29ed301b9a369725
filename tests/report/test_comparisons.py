"""Published figures side by side: Bloomberry's scanner rules applied to stored initialize
answers, and every comparison of a real crawl checked against the testbed's ground truth."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from census.report import build_report, to_csv, to_json, to_markdown
from census.report.comparisons import bloomberry_reading, published_figures
from census.report.model import Report
from census.store.engine import make_engine
from tests.report.conftest import Crawl, new_run, observe

_INIT_RESULT = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-06-18", "capabilities": {}}}
)


def test_bloomberry_detects_mcp_only_where_the_initialize_answer_is_a_json_object() -> None:
    assert bloomberry_reading(200, _INIT_RESULT).no_auth
    sse = f"event: message\ndata: {_INIT_RESULT}\n\n"
    assert bloomberry_reading(200, sse).no_auth  # the last SSE data frame is parsed
    # A spec-compliant auth wall with an empty or non-JSON body is invisible to the scanner.
    assert not bloomberry_reading(401, "").detected
    assert not bloomberry_reading(401, "Unauthorized", 'Bearer resource_metadata="x"').detected
    assert not bloomberry_reading(200, "[]").detected
    assert not bloomberry_reading(200, "{}").detected
    assert not bloomberry_reading(None, None).detected  # no HTTP answer at all
    # Any JSON object counts as "MCP detected", whatever the status: here a JSON 404.
    assert bloomberry_reading(404, '{"error": "not found"}').detected


def test_bloomberry_auth_classes_follow_the_scanners_order_of_rules() -> None:
    walled = '{"error": "unauthorized"}'
    oauth = bloomberry_reading(401, walled, 'Bearer resource_metadata="https://a/.well-known"')
    assert (oauth.oauth, oauth.api_key, oauth.no_auth) == (True, False, False)
    token = bloomberry_reading(401, '{"error":"invalid_token","message":"no access token"}')
    assert token.oauth
    key = bloomberry_reading(401, walled)
    assert (key.oauth, key.api_key) == (False, True)  # any "unauthorized" body is "API key"
    other = bloomberry_reading(403, '{"error": "forbidden"}')
    assert (other.detected, other.oauth, other.api_key, other.no_auth) == (
        True,
        False,
        False,
        False,
    )
    cors = bloomberry_reading(200, _INIT_RESULT, acao="*", limit_header=True)
    assert cors.wide_open_cors and cors.rate_limited
    assert not bloomberry_reading(200, _INIT_RESULT, acao="https://a.example").wide_open_cors


def _report(crawl: Crawl) -> Report:
    engine = make_engine(crawl.database_url)
    try:
        return build_report(engine, crawl.run_id)
    finally:
        engine.dispose()


def test_every_published_figure_is_compared_under_both_definitions(crawl: Crawl) -> None:
    report = _report(crawl)
    data = published_figures()
    assert [c.key for c in report.comparisons] == [f["key"] for f in data["figures"]]
    headline = {f.metric: f for f in report.headline}
    for c, item in zip(report.comparisons, data["figures"], strict=True):
        assert c.published.percent == item["percent"]
        assert c.published.denominator == item["denominator"]
        assert c.reason and c.study_definition and c.source.startswith("https://")
        if item["census_metric"] in headline:
            assert c.as_census == headline[item["census_metric"]]
        assert c.as_study is not None
        for f in (c.as_study, c.as_census):
            assert f.percent is not None and f.ci_low is not None and f.ci_high is not None
            assert f.ci_low <= f.percent <= f.ci_high
    bloomberry = [c for c in report.comparisons if c.published.denominator == 1412]
    assert {c.key for c in bloomberry} == {"auth_none", "rate_limiting", "cors_open"}
    assert all(c.as_study and c.as_study.denominator_label == "bb_mcp_detected" for c in bloomberry)


def test_the_study_definitions_reproduce_the_planted_ground_truth(crawl: Crawl) -> None:
    """Where a study's definition maps onto planted columns, census's reading of its own
    evidence under that definition equals the count the manifest implies."""
    report = _report(crawl)
    rows = crawl.manifest
    handshake = [m for m in rows if m["era"] in ("modern", "dual", "handshake")]
    modern = [m for m in handshake if m["era"] in ("modern", "dual")]
    era = report.comparison("protocol_era_modern").as_study
    assert era is not None and (era.numerator, era.denominator) == (len(modern), len(handshake))

    def host(url: str) -> str:
        return url.split("/")[2].split(":")[0]

    probed_hosts = {host(m["url"]) for m in rows if m["status"] != "skipped"}
    confirmed_hosts = {host(m["url"]) for m in handshake}
    domains = report.comparison("confirmed_handshake").as_study
    assert domains is not None
    assert (domains.numerator, domains.denominator) == (len(confirmed_hosts), len(probed_hosts))

    # Bloomberry's no-auth: initialize answered with a result, i.e. the handshake era (alone
    # or beside the modern one) without credentials.  Modern-only servers answer no initialize.
    no_auth = [m for m in rows if m["era"] in ("handshake", "dual") and m["auth_class"] == "none"]
    bb = report.comparison("auth_none").as_study
    assert bb is not None and bb.numerator == len(no_auth)
    assert bb.denominator >= bb.numerator


def test_every_format_carries_the_comparison_section(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        run = new_run(conn)
        observe(conn, run, "https://a.example/mcp", "healthy", auth_class="none", era="modern")
        observe(conn, run, "https://b.example/mcp", "unreachable", failure_reason="dns_error")
    report = build_report(engine, run)
    md = to_markdown(report)
    assert "## Published figures side by side" in md
    assert "38.7% of 1,412 servers with MCP detected — Bloomberry" in md
    data: dict[str, Any] = json.loads(to_json(report))
    keys = {c["key"] for c in data["comparisons"]}
    assert {"auth_none", "cors_open", "rate_limiting", "failure_rate", "fully_healthy"} <= keys
    failure = next(c for c in data["comparisons"] if c["key"] == "failure_rate")
    assert failure["as_census"]["metric"] == "failure_rate"
    assert (failure["as_census"]["numerator"], failure["as_census"]["denominator"]) == (1, 2)
    # No evidence stored (rows inserted by hand): the study's reading finds nothing detected.
    none = next(c for c in data["comparisons"] if c["key"] == "auth_none")
    assert none["as_study"]["denominator"] == 0 and none["as_study"]["percent"] is None
    assert "comparisons,auth_none,published.percent,38.7" in to_csv(report)
