import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from census.cli import app
from census.errors import ConfigError
from census.vocabulary import COLUMNS
from tests.probe.sdk_servers import sdk_server


def test_probe_json_prints_one_vocabulary_row_per_url() -> None:
    with sdk_server(json_response=True, stateless=True) as server:
        result = CliRunner().invoke(
            app, ["probe", server.url, server.url + "/", "--json", "--allow-private"]
        )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [tuple(row) for row in rows] == [COLUMNS, COLUMNS]
    assert (rows[0]["status"], rows[0]["era"], rows[0]["tool_count"]) == ("healthy", "dual", 3)
    assert rows[0]["origin_validated"] is True and rows[0]["latency_ms"] is not None


@pytest.mark.parametrize(
    "url",
    [
        "not-a-url",
        "http://{tenant}.example.com/mcp",
        "ftp://x.example/mcp",
        "http://:pw@x.example/",
    ],
)
def test_a_url_census_would_never_probe_is_refused_before_any_request(url: str) -> None:
    result = CliRunner().invoke(app, ["probe", "https://x.example/mcp", url, "--json"])
    assert isinstance(result.exception, ConfigError), result.output
    assert "not a URL census can probe" in str(result.exception)
    assert result.output == ""  # nothing probed, not even the good URL


def test_probe_without_json_renders_a_panel_with_the_verdict_and_the_steps() -> None:
    with sdk_server() as server:
        result = CliRunner().invoke(app, ["probe", server.url, "--allow-private"])
    assert result.exit_code == 0, result.output
    assert "healthy" in result.output and "discover" in result.output


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/mcp", "http://[::ffff:10.0.0.1]/mcp"])
def test_without_allow_private_a_private_target_is_bad_input_naming_the_flag(url: str) -> None:
    result = CliRunner().invoke(app, ["probe", url, "--json"])
    assert isinstance(result.exception, ConfigError), result.output
    assert "--allow-private" in str(result.exception)
    assert result.output == ""


def _hostile_server(name: str) -> Iterator[str]:
    """A real HTTP server on loopback answering every JSON-RPC request as `name`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)))
            info = {"name": name, "version": "1\x1b[2J"}
            result = {"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": info}
            answer = {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
            if request.get("method") == "server/discover":
                answer = {"jsonrpc": "2.0", "id": request.get("id")}
                answer["error"] = {"code": -32601, "message": "no \x9b2J such method"}
            body = json.dumps(answer).encode()
            status = 202 if "id" not in request else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mcp"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


#: A clipboard write (OSC 52), a screen clear (CSI), a one-character C1 CSI, a bidi override,
#: a lone surrogate and rich's own markup, all in one server name.
HOSTILE_NAME = "ok\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b2J\u202etxt.exe\ud800[link=http://e.x]x[/link]"
ACTIVE = ("\x1b", "\x07", "\x9b", "\u202e", "\ud800")


@pytest.mark.parametrize("as_json", [False, True], ids=["panel", "json"])
def test_remote_strings_reach_the_reader_escaped_never_interpreted(as_json: bool) -> None:
    hostile = contextmanager(_hostile_server)(HOSTILE_NAME)
    with hostile as url:
        args = ["probe", url, "--allow-private"] + (["--json"] if as_json else [])
        result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})  # no wrapping
    assert result.exit_code == 0, result.output
    assert not [c for c in ACTIVE if c in result.output]
    if as_json:
        # Escaped as JSON escapes: the value read back is exactly what the server sent.
        assert json.loads(result.output)["server_name"] == HOSTILE_NAME
    else:
        assert "ok\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x9b2J\\u202etxt.exe\\ud800" in result.output
        assert "[link=http://e.x]x[/link]" in result.output  # shown, not taken as markup


def test_a_missing_hosts_file_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["probe", "https://x.example/mcp", "--hosts-file", "/nope"])
    assert result.exit_code != 0
