"""Docker catalog, awesome list, seed files and opt-out lists, from real data and planted cases."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from census.discovery.awesome_list import awesome_list_source, parse_markdown
from census.discovery.docker_catalog import DockerCatalogSource
from census.discovery.normalize import normalize_url
from census.discovery.optout import OptOut, load_opt_out, parse_opt_out
from census.discovery.pipeline import collect
from census.discovery.seed_file import seed_file_source, seed_files
from census.errors import ConfigError
from tests.discovery.conftest import FIXTURES, REPO_ROOT

pytestmark = pytest.mark.anyio


def canonical(url: str) -> str:
    return normalize_url(url).url


async def test_the_docker_catalog_yields_the_url_of_every_remote_yaml() -> None:
    files = sorted((FIXTURES / "docker").glob("*.server.yaml"))
    expected = {
        canonical(doc["remote"]["url"])
        for doc in (yaml.safe_load(f.read_text()) for f in files)
        if doc.get("type") == "remote"
    }
    result = await collect(DockerCatalogSource(FIXTURES / "docker"))
    assert result.entries == len(files) == 76
    assert {c.url for c in result.candidates} == expected
    assert not result.rejected and result.complete
    hints = Counter(c.transport_hint for c in result.candidates)
    assert set(hints) <= {"sse", "streamable_http"}
    apify = next(c for c in result.candidates if c.server_name == "apify")
    assert apify.raw["remote"]["headers"]["Authorization"] == "Bearer ${APIFY_API_KEY}"


async def test_a_repository_layout_with_local_servers_and_a_broken_yaml_is_survived(
    tmp_path: Path,
) -> None:
    for name, text in {
        "remote-one": "name: remote-one\ntype: remote\nremote:\n  transport_type: sse\n"
        "  url: https://mcp.remote-one.io/sse\n",
        "local": "name: local\ntype: server\nimage: mcp/local\n",
        "broken": "name: [unclosed\n",
    }.items():
        (tmp_path / "servers" / name).mkdir(parents=True)
        (tmp_path / "servers" / name / "server.yaml").write_text(text)
    result = await collect(DockerCatalogSource(tmp_path))
    assert [c.url for c in result.candidates] == ["https://mcp.remote-one.io/sse"]
    assert result.entries == 3
    assert result.log.skipped == Counter({"no_remote": 1, "malformed_entry": 1})
    assert any("broken" in i or "server.yaml" in i for i in result.log.incidents)


def test_a_missing_docker_folder_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        DockerCatalogSource(tmp_path / "nope")


async def test_the_awesome_list_readme_yields_the_url_of_every_table_row() -> None:
    text = (FIXTURES / "awesome-remote-mcp-servers_README.md").read_text()
    rows = [line for line in text.splitlines() if re.match(r"^\| .*`https?://", line)]
    expected = {canonical(re.search(r"`(https?://[^`]+)`", r).group(1)) for r in rows}  # type: ignore[union-attr]
    source = awesome_list_source(str(FIXTURES / "awesome-remote-mcp-servers_README.md"))
    result = await collect(source)
    assert result.entries == len(rows) == 114
    assert {c.url for c in result.candidates} == expected
    assert result.duplicates == 1  # mcp.close.com/mcp is listed twice
    # The client-configuration examples in prose and code blocks are not entries.
    assert not any("my-awesome-server" in c.url for c in result.candidates)
    airtable = next(c for c in result.candidates if c.server_name == "Airtable")
    assert airtable.raw["authentication"] == "OAuth2.1"


def test_bullet_lists_yield_only_endpoint_looking_urls_when_there_is_no_table() -> None:
    text = """# Servers
- **[Acme](https://github.com/acme/mcp)** - code only
- [Remote Acme](https://mcp.acme-corp.io/mcp) - hosted at https://mcp.acme-corp.io/mcp
- Docs at https://docs.acme-corp.io/guide.
* Beta SSE: https://beta.acme-corp.io/sse.
```json
{"url": "https://mcp.in-code-block.io/mcp"}
```
"""
    assert [e.url for e in parse_markdown(text)] == [
        "https://mcp.acme-corp.io/mcp",
        "https://beta.acme-corp.io/sse",
    ]


async def test_the_old_schema_seed_file_is_read_and_its_localhost_urls_rejected() -> None:
    source = seed_file_source(FIXTURES / "seed_2025_05_16-slice.json")
    result = await collect(source)
    assert {c.url for c in result.candidates} == {
        "https://observability.mcp.cloudflare.com/sse",
        "https://bindings.mcp.cloudflare.com/sse",
    }
    assert result.rejected == Counter({"localhost": 6, "templated_url": 1})
    assert result.rejected_examples["templated_url"] == ["https://mcp.amap.com/sse?key=REDACTED"]
    assert all(c.transport_hint == "sse" for c in result.candidates)
    assert result.candidates[0].server_name == "io.github.cloudflare/mcp-server-cloudflare"


@pytest.mark.parametrize(
    ("name", "text", "urls"),
    [
        (
            "seeds.txt",
            "# comment\nhttps://mcp.a-host.io/mcp\n\nhttps://mcp.b-host.io/sse  # note\n",
            ["https://mcp.a-host.io/mcp", "https://mcp.b-host.io/sse"],
        ),
        (
            "seeds.csv",
            "url,name,transport,note\nhttps://mcp.a-host.io/mcp,A,sse,hi\n"
            "https://mcp.b-host.io/x,,,\n",
            ["https://mcp.a-host.io/mcp", "https://mcp.b-host.io/x"],
        ),
        (
            "seeds.jsonl",
            '{"url": "https://mcp.a-host.io/mcp", "name": "A", "transport": "sse"}\n\n'
            '{"url": "https://mcp.b-host.io/x"}\n',
            ["https://mcp.a-host.io/mcp", "https://mcp.b-host.io/x"],
        ),
    ],
)
async def test_seed_files_are_read_in_each_format(
    tmp_path: Path, name: str, text: str, urls: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = await collect(seed_file_source(path))
    assert [c.url for c in result.candidates] == urls
    assert result.name == f"seed:{name}"
    if name != "seeds.txt":
        assert result.candidates[0].server_name == "A"
        assert result.candidates[0].transport_hint == "sse"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.txt", "https://ok.io/mcp\nnot a url\n", r"bad.txt:2: not a URL"),
        ("bad.csv", "address,name\nhttps://ok.io,x\n", r"needs a header row with a 'url'"),
        ("bad2.csv", "url,name\n,x\n", r"bad2.csv:2: missing or malformed 'url'"),
        ("bad.jsonl", '{"url": "https://ok.io"}\n[1]\n', r"bad.jsonl:2: expected a JSON object"),
        ("bad2.jsonl", "{nope\n", r"bad2.jsonl:1: not JSON"),
        ("bad.json", '{"servers": 3}', r"must be a registry dump"),
        ("nul.txt", "https://ok.io/mcp\nhttps://ok.io/\x00\n", r"nul.txt:2: a NUL byte"),
        ("long.txt", "https://ok.io/" + "a" * 3000, r"long.txt:1: a URL of 3,014 bytes"),
        ("long.csv", "url\nhttps://ok.io/" + "a" * 3000, r"long.csv:2: a URL of 3,014 bytes"),
        ("big.csv", "url,n\nhttps://ok.io," + "x" * 200_000, r"big.csv:2: not readable as CSV"),
        ("deep.jsonl", '{"url": ' + "[" * 100_000, r"deep.jsonl:1: JSON nested too deeply"),
        ("deep2.jsonl", '{"a": ' + "[" * 70 + "]" * 70 + "}", r"nested deeper than 64 levels"),
        ("nul.jsonl", '{"url": "https://ok.io/\\u0000"}', r"nul.jsonl:1: .* a NUL character"),
        ("lone.json", '[{"server": {"name": "\\udc00"}}]', r"lone.json: .* lone surrogate"),
    ],
)
def test_malformed_seed_files_are_one_clear_config_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        seed_file_source(path)


def test_an_unreadable_seed_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read seed file"):
        seed_file_source(tmp_path / "missing.txt")


def test_the_shipped_seeds_folder_parses_and_excludes_the_opt_out_list() -> None:
    files = seed_files(REPO_ROOT / "seeds")
    assert files and all("opt-out" not in f.name for f in files)
    for f in files:
        assert seed_file_source(f).entries
    assert len(load_opt_out([REPO_ROOT / "seeds" / "opt-out.txt"])) == 0


def test_opt_out_rules_cover_hosts_subdomains_and_url_prefixes() -> None:
    rules = parse_opt_out("# c\nacme-corp.io\n*.beta.io\nhttps://shared.host.io/tenant-a\n")
    assert rules.matches("https://acme-corp.io/mcp")
    assert rules.matches("https://mcp.acme-corp.io/mcp")
    assert not rules.matches("https://notacme-corp.io/mcp")
    assert rules.matches("https://x.beta.io/sse") and rules.matches("https://beta.io/sse")
    assert rules.matches("HTTPS://Shared.Host.io:443/tenant-a/mcp")
    assert rules.matches("https://shared.host.io/tenant-a?x=1")
    assert not rules.matches("https://shared.host.io/tenant-ab")
    assert not rules.matches("https://shared.host.io/tenant-b")


def test_a_malformed_opt_out_line_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"opt:2: not a host"):
        parse_opt_out("ok.io\nnot a host\n", "opt")


async def test_opted_out_urls_are_rejected_at_discovery(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text("https://mcp.acme-corp.io/mcp\nhttps://mcp.other-host.io/mcp\n")
    result = await collect(seed_file_source(path), OptOut(frozenset({"acme-corp.io"})))
    assert [c.url for c in result.candidates] == ["https://mcp.other-host.io/mcp"]
    assert result.rejected == Counter({"opted_out": 1})
