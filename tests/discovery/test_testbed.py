"""Against the simulated internet's mirrors: exactly what they list, merged, provenance kept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from census.discovery.awesome_list import parse_markdown
from census.discovery.normalize import normalize_url
from census.discovery.pipeline import collect
from census.discovery.plan import DiscoverOptions, plan_opt_out, plan_sources
from census.store.discovery import record_source_read

testbed = pytest.importorskip("census.testbed", reason="census.testbed is not available")
registries = pytest.importorskip("census.testbed.registries")

pytestmark = pytest.mark.anyio
OFFICIAL = "io.modelcontextprotocol.registry/official"


def listed_by_mirrors(world: object) -> dict[str, set[str]]:
    """The URLs each mirror lists, straight from the testbed's own mirror data."""
    m = registries.build_mirrors(world)
    return {
        "official": {
            r["url"]
            for i in m.official
            if i["_meta"][OFFICIAL]["isLatest"] and i["_meta"][OFFICIAL]["status"] != "deleted"
            for r in i["server"]["remotes"]
        },
        "github": {r["url"] for i in m.github for r in i["server"]["remotes"]},
        "docker": {d["remote"]["url"] for d in m.docker.values()},
        "awesome": {e.url for e in parse_markdown(m.awesome)},
        "smithery": {row["deploymentUrl"] for row in m.smithery},
    }


def unusable(url: str, optouts: set[str]) -> str | None:
    host = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    if "{" in url:
        return "templated_url"
    if host == "localhost":
        return "localhost"
    if ":99999" in url:
        return "invalid_url"
    if host in optouts:
        return "opted_out"
    return None


async def test_discovery_yields_exactly_what_the_testbed_mirrors_list(
    tmp_path: Path, engine: sa.Engine
) -> None:
    async with testbed.running(testbed.TestbedSpec(endpoints=400, seed=5), tmp_path / "tb") as tb:
        options = DiscoverOptions(testbed=tb.out_dir, min_interval=0.0)
        sources = plan_sources(options)
        opt_out = plan_opt_out(options)
        results = [await collect(source, opt_out) for source in sources]
        optouts = set(tb.world.optouts)
        expected = listed_by_mirrors(tb.world)
    assert sorted(r.name for r in results) == sorted(expected)
    union: set[str] = set()
    for result in results:
        assert result.complete, (result.name, result.error)
        wanted = {normalize_url(u).url for u in expected[result.name] if not unusable(u, optouts)}
        assert {c.url for c in result.candidates} == wanted, result.name
        reasons = Counter(
            unusable(u, optouts) for u in expected[result.name] if unusable(u, optouts)
        )
        assert set(result.rejected) <= set(reasons) | {"deleted"}, result.name
        union |= wanted
    with engine.begin() as conn:
        stored = [record_source_read(conn, r) for r in results]
    with engine.connect() as conn:
        endpoints = conn.execute(sa.text("SELECT count(*) FROM endpoints")).scalar_one()
        per_source = dict(
            conn.execute(
                sa.text(
                    "SELECT s.name, count(*) FROM listings l JOIN sources s ON s.id = l.source_id"
                    " GROUP BY s.name"
                )
            ).all()
        )
    assert endpoints == len(union) == sum(s.new_endpoints for s in stored)
    assert per_source == {r.name: len(r.candidates) for r in results}
    assert sum(per_source.values()) > endpoints  # the same endpoints listed by several mirrors
