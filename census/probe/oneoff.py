"""`census probe`: settings from flags, probe concurrently, render JSON lines or panels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import anyio
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from yarl import URL

from census.classify import observation_row
from census.config import ProbeSettings, load_settings
from census.errors import ConfigError
from census.net.client import ProbeClient
from census.net.resolver import AddressRefused, vet_literal
from census.probe.plan import probe_and_classify, url_problem
from census.records import MAX_URL_BYTES, Evidence, Observation
from census.safe_text import json_line, printable
from census.vocabulary import FailureReason, Status

__all__ = ["build_settings", "check_urls", "probe_many", "run_oneoff"]


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
    """Probe URLs concurrently through one client; results in input order (never raises for
    an endpoint: census's own failures become that endpoint's ``census_error`` observation)."""
    results: list[tuple[Evidence, Observation] | None] = [None] * len(urls)
    gate = anyio.Semaphore(limit)
    async with ProbeClient(settings) as client:

        async def one(i: int, url: str) -> None:
            async with gate:
                results[i] = await probe_and_classify(url, settings, client)

        async with anyio.create_task_group() as tg:
            for i, url in enumerate(urls):
                tg.start_soon(one, i, url)
    return [r for r in results if r is not None]


def check_urls(urls: list[str], *, allow_private: bool) -> None:
    """Refuse, before any request, a URL the user typed that census would never probe."""
    for url in urls:
        shown = printable(url[:80]) + ("…" if len(url) > 80 else "")
        if len(url.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES:
            raise ConfigError(f"{shown!r} is longer than {MAX_URL_BYTES:,} bytes")
        if url_problem(url) is not None:
            raise ConfigError(
                f"{shown!r} is not a URL census can probe "
                "(http or https, a host, no credentials, no {placeholders})"
            )
        host = URL(url).raw_host or ""
        try:
            vet_literal(host, allow_private=allow_private)
        except AddressRefused as exc:
            raise ConfigError(f"{shown}: {exc}; add --allow-private to probe it") from exc


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
    check_urls(urls, allow_private=allow_private)
    settings = build_settings(
        allow_private=allow_private, hosts_file=hosts_file, ca_bundle=ca_bundle, optouts=optouts
    )
    results = anyio.run(probe_many, urls, settings)
    console = Console()
    for index, (evidence, observation) in enumerate(results):
        if evidence_dir is not None:
            _write_evidence(evidence_dir / f"{index:05d}.json", evidence)
        if as_json:
            print(json_line(observation_row(observation)))
        else:
            console.print(_panel(evidence, observation))
    private = [
        evidence.url
        for evidence, observation in results
        # Skipped, not answered: a redirect to a private address is the server's doing (data).
        if observation.status == Status.SKIPPED
        and observation.failure_reason == FailureReason.PRIVATE_ADDRESS
    ]
    if private and not allow_private:
        # A name that resolved to a private address: the user asked for something census
        # refuses by policy, which is not an answer about the endpoint.
        raise ConfigError(
            f"{printable(private[0])} resolves to a private address; "
            "add --allow-private to probe it"
        )


def _write_evidence(path: Path, evidence: Evidence) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Escaped like the JSON lines: the file is the server's text, readable with `cat`.
        path.write_text(_safe_json(evidence.to_json()), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write evidence to {str(path)!r}: {exc.strerror or exc}") from exc


def _safe_json(text: str) -> str:
    return json_line(json.loads(text))


def _panel(evidence: Evidence, observation: Observation) -> Panel:
    # Every remote string is escaped (terminal controls, bidi overrides) and wrapped in Text,
    # so neither the terminal nor rich's own markup (`[link=…]`) interprets it.
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for column, value in observation_row(observation).items():
        if value is not None and column not in ("url", "run_id"):
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            table.add_row(column, Text(printable(shown)))
    tried = Table(show_header=True, header_style="dim", box=None)
    for name in ("step", "request", "answer", "ms"):
        tried.add_column(name)
    for x in evidence.exchanges:
        answer = Text(str(x.status) if x.status is not None else "")
        if x.error:
            answer.append((" " if x.status is not None else "") + printable(x.error), "red")
        tried.add_row(
            Text(printable(x.step)),
            Text(printable(f"{x.method} {x.url}")),
            answer,
            str(x.timings_ms.get("total", "")),
        )
    verdict = observation.status.value + (
        f" ({observation.failure_reason.value})" if observation.failure_reason else ""
    )
    return Panel(
        _stack(table, tried),
        title=Text(printable(f"{evidence.url} — {verdict}")),
    )


def _stack(*parts: Table) -> Table:
    grid = Table.grid()
    for part in parts:
        grid.add_row(part)
    return grid
