"""`census discover` through the real command line, against loopback mirrors and a real database."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from tests.discovery.conftest import FIXTURES, REPO_ROOT
from tests.discovery.mirrors import RegistryMirror, load_items, serve

pytestmark = pytest.mark.anyio


async def census(*args: str, database_url: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SMITHERY_MCP_API_KEY",)}
    env["DATABASE_URL"] = database_url
    env["COLUMNS"] = "200"  # one table row per line
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-m", "census", "discover", *args],
            env=env,
            cwd=REPO_ROOT,
            check=False,
        )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def count(engine: sa.Engine, query: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(query)).scalar_one())


async def test_discover_reads_every_source_stores_them_and_is_idempotent(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://mcp.asana.com/sse\nhttp://localhost:3000/mcp\n")
    mirror = RegistryMirror(load_items(FIXTURES / "official-slice.json"))
    async with serve(mirror.app()) as base:
        args = (
            "--registry",
            f"mirror={base}",
            "--source",
            "docker",
            "--docker",
            str(FIXTURES / "docker"),
            "--source",
            "awesome",
            "--awesome",
            str(FIXTURES / "awesome-remote-mcp-servers_README.md"),
            "--seed-file",
            str(seeds),
            "--min-interval",
            "0",
        )
        code, out, err = await census(*args, database_url=database_url)
        assert code == 0, err
        for name in ("mirror", "docker", "awesome", "seed:seeds.txt"):
            assert name in out
        assert "localhost 1" in out
        endpoints = count(engine, "SELECT count(*) FROM endpoints")
        listings = count(engine, "SELECT count(*) FROM listings")
        assert listings > endpoints > 150  # overlaps between the sources merged
        code, out, err = await census(*args, database_url=database_url)
        assert code == 0, err
    assert count(engine, "SELECT count(*) FROM endpoints") == endpoints
    assert count(engine, "SELECT count(*) FROM listings") == listings
    assert count(engine, "SELECT sum(new_endpoints) FROM source_reads") == endpoints
    assert count(engine, "SELECT count(*) FROM source_reads") == 8
    asana = count(
        engine,
        "SELECT count(*) FROM listings l JOIN endpoints e ON e.id = l.endpoint_id"
        " WHERE e.url = 'https://mcp.asana.com/sse'",
    )
    assert asana == 3  # docker, awesome and the seed file each keep their listing


async def test_discover_reads_a_testbed_folder_of_mirrors(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    mirror = RegistryMirror(load_items(FIXTURES / "official-slice.json"))
    async with serve(mirror.app()) as base:
        (tmp_path / "registries.json").write_text(
            json.dumps({"official": base, "docker": str(FIXTURES / "docker")})
        )
        (tmp_path / "hosts").write_text("127.0.0.1 registry.testbed.example\n")
        code, out, err = await census(
            "--testbed", str(tmp_path), "--min-interval", "0", database_url=database_url
        )
    assert code == 0, err
    assert "official" in out and "docker" in out
    sources = count(engine, "SELECT count(*) FROM sources")
    assert sources == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seed-file", "{tmp}/bad.txt"), "bad.txt:1: not a URL"),
        (("--source", "smithery"), "SMITHERY_MCP_API_KEY"),
        (("--registry", "not-a-url"), "is not an http(s) URL"),
    ],
)
async def test_bad_user_input_is_one_clear_line_and_a_non_zero_exit(
    database_url: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "bad.txt").write_text("mcp.no-scheme.io/mcp\n")
    code, _, err = await census(
        *(a.replace("{tmp}", str(tmp_path)) for a in args), database_url=database_url
    )
    assert code == 2
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]
