"""Raw HTTP against every profile of the catalogue: each behaves as its manifest row says."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from census.testbed import TestbedSpec, running
from census.testbed.catalog import CATALOG
from tests.testbed.observer import observe

CHECKED = (
    "status",
    "failure_reason",
    "era",
    "transport",
    "protocol_version",
    "session",
    "server_name",
    "auth_class",
    "oauth_issuer",
    "oauth_dcr",
    "oauth_cimd",
    "oauth_pkce_s256",
    "cors_class",
    "origin_validated",
    "rate_limit_class",
    "tls",
    "tool_count",
    "resource_count",
    "prompt_count",
)


@pytest.mark.anyio
@pytest.mark.slow
async def test_every_profile_answers_raw_requests_as_its_manifest_row_says(tmp_path: Path) -> None:
    spec = TestbedSpec(endpoints=2 * len(CATALOG), seed=7, mix="uniform")
    mismatches: dict[str, list[str]] = {}
    async with running(spec, tmp_path) as tb:
        observed: dict[str, dict[str, str]] = {}

        async def one(url: str) -> None:
            observed[url] = await observe(tb, url)

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for url in tb.urls:
                    tg.start_soon(one, url)
        for row in tb.manifest:
            got = observed[row["url"]]
            for col in CHECKED:
                if col in got and row[col] != "*" and got[col] != row[col]:
                    mismatches.setdefault(row["profile"], []).append(
                        f"{col}: manifest {row[col]!r}, wire {got[col]!r} ({row['url']})"
                    )
        seen = {row["profile"] for row in tb.manifest}
    assert seen == {e.name for e in CATALOG}
    assert not mismatches, "\n".join(f"{p}: {m}" for p, ms in mismatches.items() for m in ms)
