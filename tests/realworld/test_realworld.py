"""Census against real MCP implementations, cell by cell.

For each implementation and configuration (servers.SPECS) the server is started as a
subprocess; `raw.observe` establishes every expected cell from raw HTTP exchanges with no census
code (the expected table, expected.EXPECTED, is what those exchanges showed; the transcripts are
in expected/<id>.md), then census (`probe` + `classify`, as a crawl does) must give the same
value in every cell.  Cells where census is wrong are xfail(strict) in expected.CENSUS_BUGS,
with the evidence.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from census.classify import classify
from census.config import ProbeSettings
from census.net.client import ProbeClient
from census.probe.plan import probe
from tests.realworld.expected import CENSUS_BUGS, COLUMNS, EXPECTED
from tests.realworld.raw import observe
from tests.realworld.servers import SPECS, Running, Spec, running

SETTINGS = ProbeSettings(allow_private=True, ratelimit_spacing=0.0, step_deadline=10.0)
TRANSCRIPTS = Path(__file__).resolve().parent / "expected"
RECORD = os.environ.get("CENSUS_REALWORLD_RECORD") == "1"  # rewrite expected/<id>.md


@pytest.fixture(scope="module", params=SPECS, ids=[s.id for s in SPECS])
def server(request: pytest.FixtureRequest) -> Iterator[Running]:
    spec: Spec = request.param
    with running(spec) as started:
        yield started


def _value(v: object) -> object:
    return v.value if hasattr(v, "value") else v


def _transcript(spec: Spec, url: str, facts: dict[str, Any], text: str) -> str:
    rows = "\n".join(f"| {k} | {facts.get(k)!s} |" for k in COLUMNS)
    return (
        f"# {spec.implementation} — {spec.config}\n\n"
        f"Endpoint `{spec.path}` (port varies). Raw exchanges by tests/realworld/raw.py; the "
        f"rules that read the cells off them are in its docstring.\n\n"
        f"| column | expected |\n|---|---|\n{rows}\n\n```\n{text.replace(url, spec.path)}\n```\n"
    )


@pytest.mark.anyio
async def test_raw_exchanges_show_the_expected_cells(server: Running) -> None:
    with anyio.fail_after(60):
        raw = await observe(server.url)
    if RECORD:
        text = raw.transcript().replace(f"127.0.0.1:{server.port}", "127.0.0.1:PORT")
        (TRANSCRIPTS / f"{server.spec.id}.md").write_text(
            _transcript(server.spec, server.url, raw.facts, text)
        )
    expected = EXPECTED[server.spec.id]
    assert {k: raw.facts.get(k) for k in COLUMNS} == expected


@pytest.mark.anyio
async def test_census_agrees_on_every_cell(server: Running, request: pytest.FixtureRequest) -> None:
    async with ProbeClient(SETTINGS) as client:
        with anyio.fail_after(90):
            evidence = await probe(server.url, SETTINGS, client)
    observation = classify(evidence)
    got = {k: _value(getattr(observation, k)) for k in COLUMNS}
    bugs = CENSUS_BUGS.get(server.spec.id)
    if bugs:
        # A known census bug (evidence in expected.CENSUS_BUGS): strict, so a fix shows up.
        request.applymarker(pytest.mark.xfail(strict=True, reason=bugs))
    assert got == EXPECTED[server.spec.id]
