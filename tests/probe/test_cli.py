import json

from typer.testing import CliRunner

from census.cli import app
from census.vocabulary import COLUMNS
from tests.probe.sdk_servers import sdk_server


def test_probe_json_prints_one_vocabulary_row_per_url() -> None:
    with sdk_server(json_response=True, stateless=True) as server:
        result = CliRunner().invoke(
            app,
            ["probe", server.url, "http://{tenant}.example.com/mcp", "--json", "--allow-private"],
        )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [tuple(row) for row in rows] == [COLUMNS, COLUMNS]
    assert (rows[0]["status"], rows[0]["era"], rows[0]["tool_count"]) == ("healthy", "dual", 3)
    assert (rows[1]["status"], rows[1]["failure_reason"]) == ("skipped", "invalid_url")
    assert rows[0]["origin_validated"] is True and rows[0]["latency_ms"] is not None


def test_probe_without_json_renders_a_panel_with_the_verdict_and_the_steps() -> None:
    with sdk_server() as server:
        result = CliRunner().invoke(app, ["probe", server.url, "--allow-private"])
    assert result.exit_code == 0, result.output
    assert "healthy" in result.output and "discover" in result.output


def test_without_allow_private_a_loopback_target_is_skipped() -> None:
    result = CliRunner().invoke(app, ["probe", "http://127.0.0.1:9/mcp", "--json"])
    row = json.loads(result.output)
    assert (row["status"], row["failure_reason"]) == ("skipped", "private_address")


def test_a_missing_hosts_file_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["probe", "https://x.example/mcp", "--hosts-file", "/nope"])
    assert result.exit_code != 0
