"""The findings mix: poisoned, shadowing and clean tools, rug pulls and secret-bearing registry
URLs, each declared in the manifest's ``findings`` (and ``changes.csv`` for epoch 2)."""

from __future__ import annotations

import csv
import os
import select
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from census.classify.inventory import tool_definition
from census.discovery.normalize import normalize_url
from census.findings import diff_codes, diff_tools, tool_findings_codes
from census.net.client import ProbeClient
from census.probe.oneoff import build_settings
from census.probe.plan import probe_and_classify
from census.testbed import TestbedSpec, running
from census.testbed.catalog import FINDINGS_CATALOG
from census.testbed.expect import expected_change, expected_row
from census.testbed.generate import generate
from census.testbed.model import Endpoint
from census.testbed.plants import PLANTS, RUG_PULLS, listed_url, secret_value, served_tools
from census.testbed.registries import build_mirrors


def _world(n: int = 2 * len(FINDINGS_CATALOG), seed: int = 3) -> list[Endpoint]:
    return generate(n, seed, "findings", tls_port=4443, plain_port=8080).endpoints


def _codes(ep: Endpoint) -> tuple[str, ...]:
    return tool_findings_codes([tool_definition(t) for t in served_tools(ep)])


def _at(ep: Endpoint, epoch: int) -> Endpoint:
    return replace(ep, profile=replace(ep.profile, epoch=epoch))


def test_the_findings_mix_plants_every_entry_and_the_other_mixes_none() -> None:
    seen = Counter(ep.profile.name for ep in _world())
    assert set(seen) == {e.name for e in FINDINGS_CATALOG}
    assert min(seen.values()) == 2
    for mix in ("uniform", "realistic", "hostile"):
        world = generate(300, 1, mix, tls_port=4443, plain_port=8080)
        assert not any(
            ep.profile.toolset or ep.profile.rug_pull or ep.profile.secret for ep in world.endpoints
        )


def test_every_planted_tool_set_scans_to_exactly_its_declared_codes_and_the_clean_set_to_none() -> (
    None
):
    for ep in _world():
        plant = PLANTS.get(ep.profile.toolset)
        assert _codes(ep) == (plant.codes if plant else ()), ep.profile.name


def test_manifest_findings_are_exactly_the_planted_codes_and_empty_on_the_clean_set() -> None:
    for ep in _world():
        row = expected_row(ep)
        # Only the auth-downgrade plant starts behind a wall (an OAuth one).
        assert row["status"] == ("healthy" if ep.profile.auth == "none" else "auth_required")
        plant = PLANTS.get(ep.profile.toolset)
        want = set(plant.codes) if plant else set()
        if ep.profile.secret:
            want.add("secret_in_url")
        assert row["findings"] == ";".join(sorted(want)), ep.profile.name
        if ep.profile.name.startswith(("clean_", "rug_")):
            assert row["findings"] == ""


def test_manifest_urls_of_the_findings_mix_are_canonical_and_secrets_redacted() -> None:
    for ep in _world():
        listed = listed_url(ep)
        normalized = normalize_url(listed)
        assert normalized.url == ep.url
        assert normalized.secret_in_url is bool(ep.profile.secret)
        if ep.profile.secret:
            assert secret_value(ep) in listed and secret_value(ep) not in ep.url


def test_registry_mirrors_list_every_secret_endpoint_with_its_secret_as_active() -> None:
    world = generate(2 * len(FINDINGS_CATALOG), 3, "findings", tls_port=4443, plain_port=8080)
    mirrors = build_mirrors(world)
    listed = {
        remote["url"]: item["_meta"]["io.modelcontextprotocol.registry/official"]["status"]
        for item in mirrors.official
        for remote in item["server"]["remotes"]
    }
    secret_eps = [ep for ep in world.endpoints if ep.profile.secret]
    assert {ep.profile.secret for ep in secret_eps} == {"query", "userinfo"}
    for ep in secret_eps:
        assert listed[listed_url(ep)] == "active"


def test_rug_pulls_change_only_from_epoch_two_and_only_the_declared_tools() -> None:
    kinds_seen = set()
    for ep in _world():
        if not ep.profile.rug_pull:
            assert served_tools(_at(ep, 2)) == served_tools(ep)
            continue
        kinds_seen.add(ep.profile.rug_pull)
        before = [tool_definition(t) for t in served_tools(ep)]
        after = [tool_definition(t) for t in served_tools(_at(ep, 2))]
        change = expected_change(ep, expected_row(ep))
        assert change is not None
        diff = diff_tools(before, after)
        assert ";".join(diff.rug_pulled_tools) == change["rug_pull_tools"], ep.profile.name
        assert bool(change["rug_pull_tools"]) is RUG_PULLS[ep.profile.rug_pull].rug_pull
        introduced = {code for c in diff.changes for code in c.introduced}
        assert introduced == set(RUG_PULLS[ep.profile.rug_pull].introduced)
        if not RUG_PULLS[ep.profile.rug_pull].codes or RUG_PULLS[ep.profile.rug_pull].rug_pull:
            assert diff.changes, f"{ep.profile.name}: the tools did not change at epoch 2"
        else:  # identity and downgrades change the server, not its tools
            assert not diff.changes, ep.profile.name
    assert kinds_seen == set(RUG_PULLS)


@pytest.mark.anyio
async def test_set_epoch_serves_changed_tools_and_identity_at_the_same_urls(tmp_path: Path) -> None:
    spec = TestbedSpec(endpoints=len(FINDINGS_CATALOG), seed=4, mix="findings")
    async with running(spec, tmp_path) as tb:
        with (tmp_path / "changes.csv").open(encoding="utf-8") as f:
            changes = {r["url"]: r for r in csv.DictReader(f)}
        assert {tb.row(u)["profile"] for u in changes} == {f"rug_{k}" for k in RUG_PULLS}
        settings = build_settings(
            hosts_file=tb.hosts_file, ca_bundle=tb.ca_bundle, optouts=tmp_path / "optouts.txt"
        )
        urls = sorted(changes)
        async with ProbeClient(settings) as client:

            async def observe_all() -> dict[str, object]:
                out: dict[str, object] = {}
                with anyio.fail_after(120):
                    for url in urls:
                        out[url] = (await probe_and_classify(url, settings, client))[1]
                return out

            before = await observe_all()
            tb.set_epoch(2)
            after = await observe_all()
    for url in urls:
        kind = tb.row(url)["profile"].removeprefix("rug_")
        old, new = before[url], after[url]
        diff = diff_tools(old.tools, new.tools)  # type: ignore[attr-defined]
        assert ";".join(diff.rug_pulled_tools) == changes[url]["rug_pull_tools"], kind
        assert ";".join(diff_codes(old, new)) == changes[url]["codes"], kind  # type: ignore[arg-type]


def test_cli_serve_switches_to_the_next_epoch_on_sigusr1(tmp_path: Path) -> None:
    serve = ["testbed", "serve", "-n", "20", "--mix", "findings", "--out", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "census", *serve],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:  # blocks until the testbed has started (or died)
            if line.startswith("Stop with"):
                break
        assert (tmp_path / "changes.csv").is_file()
        proc.send_signal(signal.SIGUSR1)
        readable, _, _ = select.select([proc.stderr], [], [], 30)  # a deadline, not a sleep
        assert readable, "no answer to SIGUSR1 within 30 s"
        assert proc.stderr.readline().strip() == "testbed: epoch 2"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
