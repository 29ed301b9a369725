"""The seed article's checklist per endpoint: true / false / not_scored, and the score."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from census.findings.checklist import CHECKLIST_COLUMNS, CHECKS, CheckValue, checklist
from census.records import Observation
from census.vocabulary import AuthClass, CorsClass, RateLimitClass, Status, Tls, Transport

T, F, N = CheckValue.TRUE, CheckValue.FALSE, CheckValue.NOT_SCORED


def _obs(**fields: object) -> Observation:
    base: dict[str, object] = dict(
        url="https://mcp.example.com/mcp",
        host="mcp.example.com",
        registrable_domain="example.com",
        probed_at=datetime(2026, 11, 21, tzinfo=UTC),
        status=Status.HEALTHY,
        transport=Transport.STREAMABLE_HTTP,
        auth_class=AuthClass.NONE,
        cors_class=CorsClass.NONE,
        origin_validated=True,
        rate_limit_class=RateLimitClass.NONE_OBSERVED,
        tool_count=5,
        tls=Tls.VALID,
    )
    base.update(fields)
    return Observation(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "check", "expected"),
    [
        ({}, "streamable_http", T),
        ({"transport": Transport.SSE}, "streamable_http", F),
        ({"transport": None}, "streamable_http", N),
        ({}, "auth_present", F),
        ({"auth_class": AuthClass.API_KEY}, "auth_present", T),
        ({"auth_class": AuthClass.OTHER_AUTH}, "auth_present", T),
        ({"auth_class": None}, "auth_present", N),
        ({"tool_count": 30}, "tool_count_within_30", T),
        ({"tool_count": 31}, "tool_count_within_30", F),
        ({"tool_count": None}, "tool_count_within_30", N),
        ({"cors_class": CorsClass.RESTRICTED}, "cors_not_open", T),
        ({"cors_class": CorsClass.WILDCARD}, "cors_not_open", F),
        ({"cors_class": CorsClass.REFLECT_CREDENTIALS}, "cors_not_open", F),
        ({"cors_class": None}, "cors_not_open", N),
        ({"rate_limit_class": RateLimitClass.ENFORCED}, "rate_limiting", T),
        ({"rate_limit_class": RateLimitClass.ADVERTISED}, "rate_limiting", T),
        ({"rate_limit_class": RateLimitClass.NONE_OBSERVED}, "rate_limiting", N),
        ({"tls": Tls.INVALID}, "tls_valid", F),
        ({"tls": Tls.NONE}, "tls_valid", F),
        ({"tls": None}, "tls_valid", N),
        ({"origin_validated": False}, "origin_validated", F),
        ({"origin_validated": None}, "origin_validated", N),
        ({}, "oauth_metadata_complete", N),
        (
            {"auth_class": AuthClass.OAUTH, "oauth_pkce_s256": True},
            "oauth_metadata_complete",
            T,
        ),
        (
            {"auth_class": AuthClass.OAUTH, "oauth_pkce_s256": False},
            "oauth_metadata_complete",
            F,
        ),
        ({"auth_class": AuthClass.OAUTH_PARTIAL}, "oauth_metadata_complete", F),
        ({"auth_class": AuthClass.BEARER}, "oauth_metadata_complete", N),
        ({}, "no_secret_in_url", T),
        ({"url": "https://mcp.example.com/mcp?key=REDACTED"}, "no_secret_in_url", F),
        ({"findings": ("secret_in_url",)}, "no_secret_in_url", F),
    ],
)
def test_each_check_reads_one_observed_column(
    fields: dict[str, object], check: str, expected: CheckValue
) -> None:
    assert checklist(_obs(**fields))[check] is expected


@pytest.mark.parametrize(
    "status", [Status.UNREACHABLE, Status.SKIPPED, Status.NOT_MCP, Status.HTTP_ERROR]
)
def test_endpoints_that_do_not_speak_mcp_are_not_scored_at_all(status: Status) -> None:
    result = checklist(_obs(status=status, url="https://x.example/mcp?token=REDACTED"))
    assert {v for _, v in result.values} == {N}
    assert result.score is None and result.scored == 0


def test_an_auth_wall_is_scored_on_what_it_shows() -> None:
    walled = _obs(
        status=Status.AUTH_REQUIRED,
        transport=None,
        auth_class=AuthClass.OAUTH,
        oauth_pkce_s256=True,
        origin_validated=None,
        tool_count=None,
        cors_class=CorsClass.WILDCARD,
    )
    result = checklist(walled)
    scored = {k: v for k, v in result.values if v is not N}
    assert scored == {
        "auth_present": T,
        "cors_not_open": F,
        "tls_valid": T,
        "oauth_metadata_complete": T,
        "no_secret_in_url": T,
    }
    assert (result.passed, result.scored, result.score) == (4, 5, 80.0)


def test_the_score_counts_only_scored_checks() -> None:
    result = checklist(_obs())
    # streamable, tools, cors, tls, origin, no secret pass; auth fails; rate + oauth not scored.
    assert (result.passed, result.scored, result.score) == (6, 7, 85.7)


def test_the_export_row_has_exactly_the_checklist_columns() -> None:
    row = checklist(_obs()).as_row()
    assert tuple(row) == CHECKLIST_COLUMNS
    assert len(CHECKS) == len(CHECKLIST_COLUMNS) - 3
    assert {row[c.column] for c in CHECKS} <= {"true", "false", "not_scored"}


def test_the_compliance_table_counts_each_check_over_endpoints() -> None:
    from census.findings.checklist import compliance

    rows = compliance(
        [
            checklist(_obs()),
            checklist(
                _obs(cors_class=CorsClass.WILDCARD, rate_limit_class=RateLimitClass.ENFORCED)
            ),
            checklist(_obs(status=Status.UNREACHABLE)),
        ]
    )
    by_name = {r.check: r for r in rows}
    assert [r.check for r in rows] == [c.name for c in CHECKS]
    cors = by_name["cors_not_open"]
    assert (cors.passed, cors.failed, cors.not_scored, cors.pass_rate) == (1, 1, 1, 50.0)
    rate = by_name["rate_limiting"]
    assert (rate.passed, rate.failed, rate.not_scored, rate.pass_rate) == (1, 0, 2, 100.0)
    assert by_name["oauth_metadata_complete"].pass_rate is None
