"""The agreement measure and the bench's URL selection (no servers)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx2
import pytest

from census.bench.agreement import agreement, cell
from census.bench.sides import _sdk_status
from census.bench.targets import build_targets
from census.testbed.expect import expected_row
from census.testbed.generate import generate


def _manifest() -> dict[str, dict[str, str]]:
    return {
        "https://a.test/mcp": {"status": "healthy", "tool_count": "3", "era": "dual"},
        "https://b.test/mcp": {"status": "degraded", "tool_count": "*", "era": "handshake"},
    }


def test_agreement_counts_each_planted_cell_once_per_observation() -> None:
    observed = [
        ("https://a.test/mcp", {"status": "healthy", "tool_count": 3, "era": "modern"}),
        ("https://b.test/mcp", {"status": "degraded", "tool_count": 99, "era": "handshake"}),
    ]
    result = agreement(_manifest(), observed, ["status", "tool_count", "era"])
    # b's tool_count is "*" (not planted): 5 cells, a's era disagrees.
    assert (result.checked, result.agreed) == (5, 4)
    assert result.per_column["era"] == (1, 2)
    assert result.share == pytest.approx(0.8)


def test_a_missing_observation_disagrees_on_every_cell() -> None:
    result = agreement(_manifest(), [("https://a.test/mcp", None)], ["status", "era"])
    assert (result.checked, result.agreed) == (2, 0)


def test_urls_outside_the_manifest_are_not_counted() -> None:
    result = agreement(
        _manifest(), [("https://elsewhere.test/", {"status": "healthy"})], ["status"]
    )
    assert result.checked == 0 and result.share is None


@pytest.mark.parametrize(
    ("value", "text"), [(None, ""), (True, "true"), (False, "false"), (12, "12"), ("x", "x")]
)
def test_cells_are_written_as_the_manifest_writes_them(value: object, text: str) -> None:
    assert cell(value) == text


@pytest.mark.parametrize(
    ("statuses", "error", "status"),
    [
        ([401], RuntimeError("Server returned an error response"), "auth_required"),
        ([403], RuntimeError("x"), "auth_required"),
        ([503], RuntimeError("x"), "http_error"),
        ([429], RuntimeError("x"), "http_error"),
        ([405], RuntimeError("x"), "not_mcp"),
        ([], ExceptionGroup("tg", [httpx2.ConnectError("refused")]), "unreachable"),
        ([], TimeoutError(), "unreachable"),
        ([200], ValueError("not JSON-RPC"), "not_mcp"),
    ],
)
def test_the_sdk_prober_reads_its_failure_like_a_user_would(
    statuses: list[int], error: BaseException, status: str
) -> None:
    assert _sdk_status(error, statuses)[0] == status


def _fake_testbed(tmp_path: Path, n: int) -> dict[str, dict[str, str]]:
    world = generate(n, 3, "realistic", 4443, 4080)
    (tmp_path / "testbed.json").write_text(json.dumps({"tls_port": 4443, "plain_port": 4080}))
    return {ep.url: expected_row(ep) for ep in world.endpoints}


def test_the_target_mix_has_a_blackhole_every_tenth_url_and_no_skipped_ones(
    tmp_path: Path,
) -> None:
    manifest = _fake_testbed(tmp_path, 600)
    urls = build_targets(manifest, 400, "target", 3, tmp_path)
    assert len(urls) == 400
    profiles = [manifest[u]["profile"] for u in urls]
    assert Counter(p == "blackhole" for p in profiles)[True] == 40
    assert all(profiles[i] == "blackhole" for i in range(9, 400, 10))
    assert all(manifest[u]["status"] != "skipped" for u in urls)


def test_the_target_mix_keeps_only_answering_endpoints_with_20_to_200_ms_latency(
    tmp_path: Path,
) -> None:
    manifest = _fake_testbed(tmp_path, 600)
    latency = {
        ep.url: ep.profile.latency_ms for ep in generate(600, 3, "realistic", 4443, 4080).endpoints
    }
    urls = build_targets(manifest, 300, "target", 3, tmp_path)
    answering = [u for u in urls if manifest[u]["status"] not in ("unreachable", "skipped")]
    assert answering
    assert all(20 <= latency[u] <= 200 for u in answering)


def test_larger_lists_repeat_every_url_before_any_recurs_twice(tmp_path: Path) -> None:
    manifest = _fake_testbed(tmp_path, 100)
    urls = build_targets(manifest, 500, "uniform", 1)
    counts = Counter(urls)
    assert max(counts.values()) - min(counts.values()) <= 1
