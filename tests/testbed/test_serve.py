"""Serving: files written, request log, start-up time, the CLI in the foreground."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from census.testbed import MANIFEST_COLUMNS, TestbedSpec, running
from tests.testbed import rawclient as rc


@pytest.mark.anyio
async def test_running_writes_the_interface_files_and_the_request_log(tmp_path: Path) -> None:
    async with running(TestbedSpec(endpoints=120, seed=2, mix="realistic"), tmp_path) as tb:
        for name in (
            "manifest.csv",
            "hosts",
            "ca.pem",
            "seeds.txt",
            "registries.json",
            "testbed.json",
            "optouts.txt",
        ):
            assert (tmp_path / name).is_file(), name
        with (tmp_path / "manifest.csv").open() as f:
            reader = csv.DictReader(f)
            assert tuple(reader.fieldnames or ()) == MANIFEST_COLUMNS
            assert [r["url"] for r in reader] == tb.urls
        assert (tmp_path / "seeds.txt").read_text().split() == tb.urls
        meta = json.loads((tmp_path / "testbed.json").read_text())
        assert meta["allow_private"] is True and meta["seed"] == 2 and meta["endpoints"] == 120
        hosts = dict(
            line.split()[::-1]
            for line in tb.hosts_file.read_text().splitlines()
            if not line.startswith("#")
        )
        healthy = next(
            r for r in tb.manifest if r["status"] == "healthy" and r["era"] != "legacy_sse"
        )
        host = healthy["url"].split("/")[2].split(":")[0]
        assert hosts[host].startswith("127.")
        async with rc.session(tb) as s:
            answer = await rc.post(s, healthy["url"], rc.initialize())
        assert answer.status in (200, 404)
        record = next(r for r in tb.request_log if r.endpoint == healthy["url"])
        assert record.user_agent == rc.UA and record.origin is None and not record.authorization
        assert record.jsonrpc_method == "initialize" and record.http_method == "POST"
    lines = (tmp_path / "requests.jsonl").read_text().splitlines()
    assert any(json.loads(line)["endpoint"] == healthy["url"] for line in lines)


@pytest.mark.anyio
async def test_registry_mirrors_list_testbed_endpoints_in_each_source_shape(tmp_path: Path) -> None:
    async with running(TestbedSpec(endpoints=400, seed=4, mix="uniform"), tmp_path) as tb:
        reg = tb.registries
        async with rc.session(tb) as s:
            urls, cursor = set(), None
            for _ in range(100):
                q = {"limit": "100", **({"cursor": cursor} if cursor else {})}
                async with s.get(reg["official"] + "/v0.1/servers", params=q) as r:
                    page = await r.json()
                for item in page["servers"]:
                    urls |= {rem["url"] for rem in item["server"]["remotes"]}
                cursor = page["metadata"].get("nextCursor")
                if not cursor:
                    break
            assert len(urls & set(tb.urls)) > 100
            assert any("{" in u for u in urls) or any("localhost" in u for u in urls)
            async with s.get(reg["smithery"] + "/servers") as r:
                assert r.status == 401
            auth = {"Authorization": f"Bearer {reg['smithery_key']}"}
            async with s.get(reg["smithery"] + "/servers", headers=auth) as r:
                assert (await r.json())["pagination"]["totalCount"] > 0
            async with s.get(reg["awesome"]) as r:
                assert "| Name | Category | URL |" in await r.text()
            async with s.get(reg["github"] + "/v0.1/servers") as r:
                assert "servers" in await r.json()
        assert list(Path(reg["docker"]).glob("servers/*/server.yaml"))


@pytest.mark.anyio
@pytest.mark.slow
async def test_twenty_thousand_endpoints_start_in_under_ten_seconds(tmp_path: Path) -> None:
    started = time.perf_counter()
    async with running(TestbedSpec(endpoints=20_000, seed=1, mix="realistic"), tmp_path) as tb:
        elapsed = time.perf_counter() - started
        assert len(tb.manifest) == 20_000
        async with rc.session(tb) as s:
            row = next(
                r
                for r in reversed(tb.manifest)
                if r["status"] == "healthy" and r["era"] in ("modern", "dual")
            )
            answer = await rc.post(s, row["url"], rc.request("server/discover", 1), modern=True)
            assert answer.status == 200
    assert elapsed < 10.0, elapsed


def test_cli_serve_runs_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "census",
            "testbed",
            "serve",
            "--endpoints",
            "50",
            "--seed",
            "9",
            "--mix",
            "hostile",
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:  # blocks until the testbed has started (or died)
            banner.append(line)
            if line.startswith("Stop with"):
                break
        text = "".join(banner)
        assert text.startswith("testbed: 50 endpoints"), text
        assert "census crawl --testbed" in text
        assert (tmp_path / "manifest.csv").is_file()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "testbed stopped" in out
    assert (tmp_path / "requests.jsonl").exists()
