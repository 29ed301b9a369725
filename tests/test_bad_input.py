"""Bad user input, as a user meets it: one line on stderr, the documented exit code, no traceback.

Every case runs the real command in a child process (``python -m census …``), the way a user
runs it, with its own ``CENSUS_HOME`` and a database of its own on the test server.  Exit codes
are the ones :mod:`census.errors` documents: 2 for bad input (a file, a URL, an option), 3 for a
database census cannot use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, DatabaseFactory

BAD_INPUT, DATABASE = 2, 3


@dataclass(frozen=True)
class Case:
    """One command line; ``files`` are written to the case's folder first (``{dir}`` in
    arguments names it); ``database`` picks the DATABASE_URL the command sees."""

    args: tuple[str, ...]
    code: int
    says: str  # a fragment the one line must contain
    files: dict[str, Callable[[], bytes]] = field(default_factory=dict)
    database: str = "migrated"  # migrated | empty | a literal URL


def _text(text: str) -> Callable[[], bytes]:
    return lambda: text.encode("utf-8")


LONG_URL = "https://mcp.example.org/" + "a" * 100_000
DEEP = "[" * 100_000 + "]" * 100_000

CASES: dict[str, Case] = {
    "seed file with a NUL byte": Case(
        ("discover", "--source", "seeds", "--seed-file", "{dir}/seeds.txt"),
        BAD_INPUT,
        "NUL",
        {"seeds.txt": lambda: b"https://mcp.realhost.org/mcp\x00\n"},
    ),
    "seed file with an over-long URL": Case(
        ("discover", "--source", "seeds", "--seed-file", "{dir}/seeds.txt"),
        BAD_INPUT,
        "at most 2,048",
        {"seeds.txt": _text(LONG_URL + "\n")},
    ),
    "jsonl line nested 100,000 deep": Case(
        ("discover", "--source", "seeds", "--seed-file", "{dir}/seeds.jsonl"),
        BAD_INPUT,
        "nested",
        {"seeds.jsonl": _text('{"url": ' + DEEP + "}\n")},
    ),
    "jsonl line nested deeper than the limit": Case(
        ("discover", "--source", "seeds", "--seed-file", "{dir}/seeds.jsonl"),
        BAD_INPUT,
        "nested deeper than 64",
        {
            "seeds.jsonl": _text(
                '{"url": "https://a.realhost.org/", "x": ' + "[" * 99 + "]" * 99 + "}\n"
            )
        },
    ),
    "csv field over the csv module's limit": Case(
        ("discover", "--source", "seeds", "--seed-file", "{dir}/seeds.csv"),
        BAD_INPUT,
        "seeds.csv:2: not readable as CSV",
        {"seeds.csv": _text("url,name\nhttps://a.realhost.org/mcp," + "x" * 200_000 + "\n")},
    ),
    "registry dump with a lone surrogate": Case(
        ("discover", "--source", "seeds", "--seed-file", "{dir}/dump.json"),
        BAD_INPUT,
        "lone surrogate",
        {
            "dump.json": _text(
                json.dumps(
                    {
                        "servers": [
                            {
                                "server": {
                                    "name": "io.example/x\\ud800",
                                    "remotes": [
                                        {
                                            "type": "streamable-http",
                                            "url": "https://a.realhost.org/",
                                        }
                                    ],
                                }
                            }
                        ]
                    }
                ).replace("\\\\ud800", "\\ud800")
            )
        },
    ),
    "crawl of a seed file with a NUL byte": Case(
        ("crawl", "--seed-file", "{dir}/seeds.txt", "--no-worker"),
        BAD_INPUT,
        "NUL",
        {"seeds.txt": lambda: b"https://mcp.realhost.org/mcp\x00\n"},
    ),
    "DATABASE_URL with a bad port": Case(
        ("db", "status"), BAD_INPUT, "DATABASE_URL", database="postgresql://u@h:5432x/db"
    ),
    "findings scan of a missing file": Case(
        ("findings", "scan", "{dir}/missing.json"), BAD_INPUT, "No such file"
    ),
    "findings scan of JSON nested 100,000 deep": Case(
        ("findings", "scan", "{dir}/tools.json"), BAD_INPUT, "not JSON", {"tools.json": _text(DEEP)}
    ),
    "report --top -1": Case(("report", "--top", "-1"), BAD_INPUT, "--top"),
    "report on a database without the schema": Case(
        ("report",), DATABASE, "census db upgrade", database="empty"
    ),
    "export on a database without the schema": Case(
        ("export", "endpoints", "--format", "csv", "--out", "{dir}/e.csv"),
        DATABASE,
        "census db upgrade",
        database="empty",
    ),
    "report of an unknown run": Case(("report", "--run", "999"), BAD_INPUT, "999"),
    "diff with one run": Case(("diff", "1"), BAD_INPUT, "Missing argument"),
    "demo -n 0": Case(("demo", "-n", "0"), BAD_INPUT, "--endpoints"),
    "probe not-a-url": Case(("probe", "not-a-url"), BAD_INPUT, "not a URL census can probe"),
    "probe a private address": Case(
        ("probe", "http://127.0.0.1:1/mcp"), BAD_INPUT, "--allow-private"
    ),
    "probe a name that resolves to a private address": Case(
        ("probe", "http://localhost:1/mcp"), BAD_INPUT, "--allow-private"
    ),
    "probe an IPv4-compatible IPv6 address": Case(
        ("probe", "http://[::10.0.0.1]/mcp"), BAD_INPUT, "--allow-private"
    ),
    "probe a URL with a password": Case(
        ("probe", "http://:secret@mcp.example.org/mcp"), BAD_INPUT, "no credentials"
    ),
    "probe an over-long URL": Case(("probe", LONG_URL[:5000]), BAD_INPUT, "longer than 2,048"),
    "probe with a missing hosts file": Case(
        ("probe", "https://mcp.example.org/mcp", "--hosts-file", "{dir}/nope"),
        BAD_INPUT,
        "no such file",
    ),
    "discover an unknown source": Case(
        ("discover", "--source", "nosuch"), BAD_INPUT, "unknown source"
    ),
    "discover with a missing opt-out file": Case(
        ("discover", "--opt-out", "{dir}/nope"), BAD_INPUT, "opt-out"
    ),
    "crawl --resume of an unknown run": Case(("crawl", "--resume", "999"), BAD_INPUT, "999"),
    "worker --concurrency 0": Case(("worker", "--concurrency", "0"), BAD_INPUT, "--concurrency"),
    "schedule with a bad cron expression": Case(
        ("schedule", "--cron", "not a cron"), BAD_INPUT, "cron"
    ),
    "export in an unknown format": Case(
        ("export", "observations", "--format", "xls", "--out", "{dir}/x"), BAD_INPUT, "--format"
    ),
    "bench with no endpoints": Case(("bench", "--endpoints", "0"), BAD_INPUT, "--endpoints"),
    "testbed serve with no endpoints": Case(
        ("testbed", "serve", "--endpoints", "0", "--out", "{dir}/tb"), BAD_INPUT, "--endpoints"
    ),
    "db downgrade to an unknown revision": Case(
        ("db", "downgrade", "nosuchrev"), BAD_INPUT, "nosuchrev"
    ),
    "an unknown command": Case(("nosuch",), BAD_INPUT, "No such command"),
    "an unknown option": Case(("probe", "--bogus", "x"), BAD_INPUT, "--bogus"),
}


def _run(case: Case, folder: Path, databases: dict[str, str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        (folder / name).write_bytes(content())
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CENSUS_", "DATABASE_URL"))
    }
    env |= {
        "CENSUS_HOME": str(folder / "home"),
        "DATABASE_URL": databases.get(case.database, case.database),
        "COLUMNS": "100",
    }
    return subprocess.run(
        [sys.executable, "-m", "census", *(a.replace("{dir}", str(folder)) for a in case.args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def databases(database_factory: DatabaseFactory, migrated_template: str) -> dict[str, str]:
    """One migrated and one empty database for the module: no case writes to them."""
    return {
        "migrated": database_factory.create(template=migrated_template),
        "empty": database_factory.create(),
    }


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_one_line_the_documented_exit_code_and_no_traceback(
    name: str, databases: dict[str, str], tmp_path: Path
) -> None:
    case = CASES[name]
    done = _run(case, tmp_path / "case", databases)
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("census: error: "), lines[0]
    assert case.says in lines[0]
    assert done.returncode == case.code, lines[0]
