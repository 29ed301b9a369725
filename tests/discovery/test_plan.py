"""Planning sources from command-line choices: every user mistake is caught before any request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from census.discovery.official_registry import RegistrySource
from census.discovery.plan import DiscoverOptions, parse_since, plan_opt_out, plan_sources
from census.errors import ConfigError
from tests.discovery.conftest import FIXTURES, REPO_ROOT


def test_without_choices_the_public_sources_and_shipped_seeds_are_planned() -> None:
    sources = plan_sources(DiscoverOptions(seeds_dir=REPO_ROOT / "seeds"))
    names = [s.name for s in sources]
    assert names[:3] == ["official", "github", "awesome"]
    assert "seed:remote-endpoints.txt" in names
    official = sources[0]
    assert isinstance(official, RegistrySource)
    assert official.location == "https://registry.modelcontextprotocol.io"
    assert official.policy.min_interval == 1.0  # the registry's 1 request/s by default


def test_named_registries_and_seed_files_are_added(tmp_path: Path) -> None:
    seeds = tmp_path / "mine.csv"
    seeds.write_text("url\nhttps://mcp.a-host.io/mcp\n")
    sources = plan_sources(
        DiscoverOptions(
            sources=("docker",),
            docker_dir=FIXTURES / "docker",
            registries=("https://api.pulse.example-registry.io/v0.1", "corp=https://r.corp.io"),
            seed_files=(seeds,),
        )
    )
    assert [s.name for s in sources] == [
        "registry:api.pulse.example-registry.io",
        "corp",
        "docker",
        "seed:mine.csv",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DiscoverOptions(sources=("nonsense",)), "unknown source 'nonsense'"),
        (DiscoverOptions(sources=("docker",)), "needs --docker DIR"),
        (DiscoverOptions(sources=("domains",)), "needs --domains FILE"),
        (DiscoverOptions(sources=("smithery",)), "SMITHERY_MCP_API_KEY"),
        (DiscoverOptions(registries=("ftp://x.io",)), "is not an http(s) URL"),
        (DiscoverOptions(seed_files=(Path("/nonexistent/s.txt"),)), "cannot read seed file"),
        (DiscoverOptions(testbed=Path("/nonexistent")), "cannot read registries.json"),
        (
            DiscoverOptions(registries=("official=https://a.io", "official=https://b.io")),
            "share the name 'official'",
        ),
    ],
)
def test_user_mistakes_are_config_errors(options: DiscoverOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        plan_sources(options)


def test_a_testbed_never_falls_back_to_the_real_registries(tmp_path: Path) -> None:
    (tmp_path / "registries.json").write_text(json.dumps({"docker": str(FIXTURES / "docker")}))
    assert [s.name for s in plan_sources(DiscoverOptions(testbed=tmp_path))] == ["docker"]
    for source in ("official", "github", "awesome"):
        with pytest.raises(ConfigError, match=f"has no {source} mirror"):
            plan_sources(DiscoverOptions(testbed=tmp_path, sources=(source,)))


def test_a_testbed_uses_its_hosts_file_ca_and_opt_outs(tmp_path: Path) -> None:
    (tmp_path / "registries.json").write_text(json.dumps({"official": "http://127.0.0.1:9/o"}))
    (tmp_path / "hosts").write_text("127.0.0.7 mcp.tb-host.io\n")
    (tmp_path / "testbed.json").write_text(json.dumps({"optouts": "optouts.txt"}))
    (tmp_path / "optouts.txt").write_text("quiet-operator.io\n")
    options = DiscoverOptions(testbed=tmp_path, min_interval=0.0)
    (source,) = plan_sources(options)
    assert isinstance(source, RegistrySource)
    assert source.policy.hosts == {"mcp.tb-host.io": "127.0.0.7"}
    assert source.policy.min_interval == 0.0
    assert plan_opt_out(options).matches("https://mcp.quiet-operator.io/mcp")


def test_since_accepts_dates_and_timestamps_only() -> None:
    assert parse_since("2026-11-01").isoformat() == "2026-11-01T00:00:00+00:00"
    assert parse_since("2026-11-01T10:00:00Z").hour == 10
    with pytest.raises(ConfigError, match="is not a date"):
        parse_since("yesterday")
