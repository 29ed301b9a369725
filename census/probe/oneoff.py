"""`census probe`: settings from flags, probe concurrently, render JSON lines or panels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import anyio
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from census.classify import classify, observation_row
from census.config import ProbeSettings, load_settings
from census.errors import ConfigError
from census.net.client import ProbeClient
from census.probe.plan import probe
from census.records import Evidence, Observation

__all__ = ["build_settings", "probe_many", "run_oneoff"]


def build_settings(
    *,
    allow_private: bool = False,
    hosts_file: Path | None = None,
    ca_bundle: Path | None = None,
    optouts: Path | None = None,
) -> ProbeSettings:
    base = load_settings()
    for path in (hosts_file, ca_bundle, optouts):
        if path is not None and not path.is_file():
            raise ConfigError(f"no such file: {path}")
    hosts: frozenset[str] = frozenset()
    if optouts is not None:
        hosts = frozenset(
            line.strip().lower()
            for line in optouts.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        )
    return replace(
        ProbeSettings(),
        user_agent=base.user_agent,
        allow_private=allow_private,
        hosts_file=hosts_file,
        ca_bundle=ca_bundle,
        optout_hosts=hosts,
    )


async def probe_many(
    urls: list[str], settings: ProbeSettings, limit: int = 64
) -> list[tuple[Evidence, Observation]]:
    """Probe URLs concurrently through one client; results in input order."""
    results: list[tuple[Evidence, Observation] | None] = [None] * len(urls)
    gate = anyio.Semaphore(limit)
    async with ProbeClient(settings) as client:

        async def one(i: int, url: str) -> None:
            async with gate:
                evidence = await probe(url, settings, client)
                results[i] = (evidence, classify(evidence))

        async with anyio.create_task_group() as tg:
            for i, url in enumerate(urls):
                tg.start_soon(one, i, url)
    return [r for r in results if r is not None]


def run_oneoff(
    urls: list[str],
    *,
    as_json: bool,
    allow_private: bool,
    hosts_file: Path | None,
    ca_bundle: Path | None,
    optouts: Path | None,
    evidence_dir: Path | None,
) -> None:
    settings = build_settings(
        allow_private=allow_private, hosts_file=hosts_file, ca_bundle=ca_bundle, optouts=optouts
    )
    results = anyio.run(probe_many, urls, settings)
    console = Console()
    for index, (evidence, observation) in enumerate(results):
        if evidence_dir is not None:
            evidence_dir.mkdir(parents=True, exist_ok=True)
            (evidence_dir / f"{index:05d}.json").write_text(evidence.to_json(), encoding="utf-8")
        if as_json:
            print(json.dumps(observation_row(observation), ensure_ascii=False))
        else:
            console.print(_panel(evidence, observation))


def _panel(evidence: Evidence, observation: Observation) -> Panel:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for column, value in observation_row(observation).items():
        if value is not None and column not in ("url", "run_id"):
            table.add_row(column, str(value).lower() if isinstance(value, bool) else str(value))
    tried = Table(show_header=True, header_style="dim", box=None)
    for name in ("step", "request", "answer", "ms"):
        tried.add_column(name)
    for x in evidence.exchanges:
        answer = str(x.status) if x.status is not None else f"[red]{x.error}[/red]"
        if x.status is not None and x.error:
            answer += f" [red]{x.error}[/red]"
        tried.add_row(x.step, f"{x.method} {x.url}", answer, str(x.timings_ms.get("total", "")))
    verdict = observation.status.value + (
        f" ({observation.failure_reason.value})" if observation.failure_reason else ""
    )
    return Panel(
        _stack(table, tried),
        title=f"{evidence.url} — {verdict}",
    )


def _stack(*parts: Table) -> Table:
    grid = Table.grid()
    for part in parts:
        grid.add_row(part)
    return grid
