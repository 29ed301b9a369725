"""Ground truth: vocabulary coverage, determinism and the published ecosystem shares."""

from __future__ import annotations

from collections import Counter

import pytest

from census.testbed.expect import MANIFEST_COLUMNS, expected_row
from census.testbed.generate import generate
from census.vocabulary import CLOSED_COLUMNS, COLUMNS

BOOLEAN_COLUMNS = ("oauth_dcr", "oauth_cimd", "oauth_pkce_s256", "origin_validated")
#: Values no server can cause, so no testbed profile plants them: census_error is census's own
#: code failing (issue 12), proven by tests that break census, not the simulated internet.
UNPLANTABLE = {("failure_reason", "census_error")}


def _manifest(n: int, seed: int, mix: str) -> list[dict[str, str]]:
    world = generate(n, seed, mix, tls_port=4443, plain_port=8080)
    return [expected_row(ep) for ep in world.endpoints]


def test_manifest_columns_are_vocabulary_names_plus_profile() -> None:
    assert MANIFEST_COLUMNS[-1] == "profile"
    assert set(MANIFEST_COLUMNS[:-1]) <= set(COLUMNS)


@pytest.mark.parametrize("seed", [1, 2, 42])
def test_uniform_mix_of_2000_covers_every_vocabulary_value_at_least_three_times(seed: int) -> None:
    rows = _manifest(2000, seed=seed, mix="uniform")
    short = {}
    for column, enum in CLOSED_COLUMNS.items():
        counts = Counter(row[column] for row in rows)
        for value in enum:
            if (column, value.value) in UNPLANTABLE:
                continue
            if counts[value.value] < 3:
                short[f"{column}={value.value}"] = counts[value.value]
    for column in BOOLEAN_COLUMNS:
        counts = Counter(row[column] for row in rows)
        for flag in ("true", "false"):
            if counts[flag] < 3:
                short[f"{column}={flag}"] = counts[flag]
    assert not short, short


def test_every_manifest_value_belongs_to_the_vocabulary() -> None:
    for mix in ("uniform", "realistic", "hostile"):
        for row in _manifest(600, seed=3, mix=mix):
            for column, enum in CLOSED_COLUMNS.items():
                assert row[column] in {"", *(v.value for v in enum)}, (column, row)
            for column in BOOLEAN_COLUMNS:
                assert row[column] in ("", "true", "false")


def test_generation_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    assert _manifest(500, 5, "realistic") == _manifest(500, 5, "realistic")
    assert _manifest(500, 5, "realistic") != _manifest(500, 6, "realistic")


def test_healthy_rows_have_no_failure_reason_and_unreachable_rows_no_protocol_facts() -> None:
    for row in _manifest(1000, seed=2, mix="uniform"):
        if row["status"] == "healthy":
            assert row["failure_reason"] == ""
            assert row["era"] and row["transport"] and row["protocol_version"]
        if row["status"] in ("unreachable", "skipped"):
            assert row["era"] == row["auth_class"] == row["tool_count"] == ""
        if row["status"] == "auth_required":
            assert row["era"] == "" and row["auth_class"] not in ("", "none")


def test_realistic_mix_follows_published_ecosystem_shares() -> None:
    rows = _manifest(5000, seed=11, mix="realistic")
    status = Counter(r["status"] for r in rows)
    dead = (status["unreachable"] + status["not_mcp"] + status["http_error"]) / len(rows)
    assert 0.25 <= dead <= 0.5  # "roughly a quarter to a half dead"
    mcp = [r for r in rows if r["status"] in ("healthy", "degraded", "auth_required")]
    no_auth = sum(r["auth_class"] == "none" for r in mcp) / len(mcp)
    assert 0.3 <= no_auth <= 0.5  # "~39% no auth among MCP servers"
    eras = Counter(r["era"] for r in rows if r["era"])
    modern_capable = eras["modern"] + eras["dual"]
    legacy = eras["handshake"] + eras["legacy_sse"]
    assert 0.35 <= modern_capable / legacy <= 0.7  # "about one modern server per two legacy"
    tools = sorted(int(r["tool_count"]) for r in rows if r["tool_count"] not in ("", "*"))
    assert 3 <= tools[len(tools) // 2] <= 8  # median ~5
    assert 8 <= sum(tools) / len(tools) <= 18  # mean ~13
