"""Domain lists → candidate endpoints, from server cards and conventional URLs.

For each apex domain ``d`` (one a line in the list file, ``#`` comments), in this order:

1. **AI catalog** ``https://d/.well-known/ai-catalog.json``: entries of type
   ``application/mcp-server-card+json`` give a card inline (``data``) or by ``url``; every
   card's ``remotes[].url`` is a candidate.
2. **Older card locations** (probing reference §8.3), each seen in the wild:
   ``/.well-known/mcp/server-card``, ``/.well-known/mcp/server-card.json``,
   ``/.well-known/mcp-server-card``, ``/.well-known/mcp.json``, ``/.well-known/mcp``,
   ``/.well-known/mcp/catalog``, ``/.well-known/mcp/catalog.json``; a card's ``remotes``, or the
   early proposals' ``endpoint``/``url``, are candidates.
3. **Conventional URLs** ``https://mcp.d/mcp``, ``https://mcp.d/sse``, ``https://d/mcp``,
   ``https://d/sse``: a GET (no body read, no redirect followed) counts as an answer unless it
   is a connection failure, 3xx, 404/410, 5xx or a 200 HTML page.  Guards against catch-alls:
   the same path on a random sibling name (``<random>.d``, the wildcard-DNS guard) and a random
   path on ``d`` must not answer the same way (same status and content type); a guessed URL
   that passes also gets its card (``<url>/server-card``) read for the server's name.

A candidate's raw entry records the domain and how it was found.  Domains are worked on a few
at a time; requests to one domain are sequential, so a domain sees at most one request at once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import anyio

from census.discovery.http import Fetched, Fetcher, HttpPolicy
from census.discovery.normalize import normalize_url
from census.discovery.source import ReadLog, make_candidate
from census.errors import ConfigError
from census.records import Candidate

__all__ = [
    "CARD_PATHS",
    "CATALOG_PATH",
    "DomainsSource",
    "Found",
    "card_remotes",
    "catalog_entries",
    "domains_source",
    "parse_domains",
]

CATALOG_PATH = "/.well-known/ai-catalog.json"
CARD_PATHS = (
    "/.well-known/mcp/server-card",
    "/.well-known/mcp/server-card.json",
    "/.well-known/mcp-server-card",
    "/.well-known/mcp.json",
    "/.well-known/mcp",
    "/.well-known/mcp/catalog",
    "/.well-known/mcp/catalog.json",
)
CARD_TYPE = "application/mcp-server-card+json"
_ACCEPT_JSON = {"Accept": f"{CARD_TYPE}, application/json;q=0.9"}
_ACCEPT_MCP = {"Accept": "application/json, text/event-stream"}
MAX_DOMAINS_FILE = 16 * 1024 * 1024


def _random_label() -> str:
    return "census-" + secrets.token_hex(6)


@dataclass(frozen=True, slots=True)
class Found:
    url: str
    transport: object
    how: str
    name: object = None
    version: object = None
    card: Any = None


@dataclass(frozen=True, slots=True)
class DomainsSource:
    domains: tuple[str, ...]
    location: str
    name: str = "domains"
    kind: ClassVar[str] = "domains"
    policy: HttpPolicy = field(default_factory=lambda: HttpPolicy(min_interval=0.0, attempts=1))
    #: How many domains are worked on at once (each one sequentially).
    concurrency: int = 4
    scheme: str = "https"
    #: A non-default port for every guessed URL (test servers and testbeds only).
    port: int | None = None
    sibling_label: Callable[[], str] = _random_label

    async def read(self, log: ReadLog) -> AsyncIterator[Candidate]:
        log.expected = len(self.domains)
        async with Fetcher(self.policy) as fetcher:
            step = max(1, self.concurrency)
            for start in range(0, len(self.domains), step):
                batch = self.domains[start : start + step]
                results: dict[str, list[Found]] = {}

                async def work(domain: str, into: dict[str, list[Found]] = results) -> None:
                    into[domain] = await self._domain(fetcher, domain)

                async with anyio.create_task_group() as group:
                    for domain in batch:
                        group.start_soon(work, domain)
                for domain in batch:
                    log.entries += 1
                    found = results.get(domain, [])
                    if not found:
                        log.skipped["nothing_found"] += 1
                    for item in found:
                        raw = {"domain": domain, "found_by": item.how}
                        if item.card is not None:
                            raw["card"] = item.card
                        yield make_candidate(
                            self.name,
                            item.url,
                            raw,
                            server_name=item.name,
                            server_version=item.version,
                            transport=item.transport,
                        )

    def _origin(self, host: str) -> str:
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port else "")

    async def _domain(self, fetcher: Fetcher, domain: str) -> list[Found]:
        found: dict[str, Found] = {}

        def add(items: list[Found]) -> None:
            for item in items:
                key = normalize_url(item.url).url
                found.setdefault(key, item)

        origin = self._origin(domain)
        catalog = await _get_json(fetcher, origin + CATALOG_PATH)
        if catalog is not None:
            add(await self._catalog(fetcher, catalog, "ai-catalog"))
        for path in CARD_PATHS:
            document = await _get_json(fetcher, origin + path)
            if document is None:
                continue
            if catalog_entries(document):
                add(await self._catalog(fetcher, document, path))
            else:
                add(card_remotes(document, path))
        add(await self._conventions(fetcher, domain, set(found)))
        return list(found.values())

    async def _catalog(self, fetcher: Fetcher, catalog: Any, how: str) -> list[Found]:
        out: list[Found] = []
        for entry in catalog_entries(catalog)[:50]:
            entry_type = entry.get("type")
            if isinstance(entry_type, str) and "mcp-server-card" not in entry_type:
                continue
            card = entry.get("data")
            if card is None and isinstance(entry.get("url"), str):
                if not entry["url"].startswith(("http://", "https://")):
                    continue
                card = await _get_json(fetcher, entry["url"])
            if isinstance(card, dict):
                out.extend(card_remotes(card, how))
        return out

    async def _conventions(self, fetcher: Fetcher, domain: str, known: set[str]) -> list[Found]:
        out: list[Found] = []
        guards: dict[str, tuple[object, ...]] = {}
        dead_hosts: set[str] = set()
        guesses = [
            (f"mcp.{domain}", "/mcp", "streamable-http"),
            (f"mcp.{domain}", "/sse", "sse"),
            (domain, "/mcp", "streamable-http"),
            (domain, "/sse", "sse"),
        ]
        for host, path, transport in guesses:
            url = self._origin(host) + path
            if host in dead_hosts or normalize_url(url).url in known:
                continue
            answer = await fetcher.get(
                url, headers=_ACCEPT_MCP, read_body=False, follow_redirects=False
            )
            if answer.error is not None and answer.status is None:
                if answer.error in {"dns_error", "connect_refused", "tls_error"}:
                    dead_hosts.add(host)
                continue
            if not _answers(answer):
                continue
            if host == domain:
                guard_key, guard_url = "path", self._origin(domain) + "/" + self.sibling_label()
            else:
                guard_key = "host" + path
                guard_url = self._origin(f"{self.sibling_label()}.{domain}") + path
            if guard_key not in guards:
                guard = await fetcher.get(
                    guard_url, headers=_ACCEPT_MCP, read_body=False, follow_redirects=False
                )
                guards[guard_key] = _signature(guard)
            if guards[guard_key] == _signature(answer):
                continue  # a wildcard name or a catch-all route answers anything this way
            card = await _get_json(fetcher, url + "/server-card")
            card = card if isinstance(card, dict) else None
            out.append(
                Found(
                    url,
                    transport,
                    "convention",
                    name=card.get("name") if card else None,
                    version=card.get("version") if card else None,
                    card=card,
                )
            )
        return out


def card_remotes(card: Any, how: str) -> list[Found]:
    """The endpoint URLs a server card (or an early ``mcp.json`` proposal document) names."""
    if not isinstance(card, dict):
        return []
    name, version = card.get("name"), card.get("version")
    summary = {k: card[k] for k in ("name", "version", "title") if k in card}
    out: list[Found] = []
    remotes = card.get("remotes")
    if isinstance(remotes, list):
        for remote in remotes:
            if isinstance(remote, dict) and isinstance(remote.get("url"), str):
                transport = remote.get("type", remote.get("transport_type"))
                out.append(Found(remote["url"], transport, how, name, version, summary))
    for key in ("endpoint", "url", "serverUrl"):
        value = card.get(key)
        if not out and isinstance(value, str) and value.startswith(("http://", "https://")):
            out.append(Found(value, card.get("transport"), how, name, version, summary))
    return out


def catalog_entries(document: Any) -> list[dict[str, Any]]:
    """The entries of an AI catalog that name a card by ``url`` or carry it inline (``data``)."""
    items: Any = document
    if isinstance(document, dict):
        for key in ("entries", "items", "catalog", "servers", "mcpServers"):
            if isinstance(document.get(key), list):
                items = document[key]
                break
        else:
            return []
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict) and ("url" in item or "data" in item)]


async def _get_json(fetcher: Fetcher, url: str) -> Any:
    fetched = await fetcher.get(url, headers=_ACCEPT_JSON, follow_redirects=False)
    if not fetched.ok or "html" in fetched.content_type:
        return None
    try:
        return json.loads(fetched.body)
    except ValueError:
        return None


def _answers(fetched: Fetched) -> bool:
    status = fetched.status
    if status is None or status in {404, 410} or status >= 500 or 300 <= status < 400:
        return False
    return not (status == 200 and "html" in fetched.content_type)


def _signature(fetched: Fetched) -> tuple[object, ...]:
    return (fetched.status, fetched.error, fetched.content_type)


def parse_domains(text: str, origin: str = "domains") -> tuple[str, ...]:
    """Apex domains, one a line; a line that is not a domain name is a ConfigError."""
    out: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        domain = line.split("#", 1)[0].strip().lower().rstrip(".")
        if not domain:
            continue
        if "://" in domain or "/" in domain or " " in domain or "." not in domain:
            raise ConfigError(f"{origin}:{number}: not a domain name: {domain[:80]!r}")
        normalized = normalize_url(f"https://{domain}")
        if normalized.host != domain or normalized.rejected is not None:
            raise ConfigError(f"{origin}:{number}: not a public domain name: {domain[:80]!r}")
        if domain not in out:
            out.append(domain)
    return tuple(out)


def domains_source(path: Path, **options: Any) -> DomainsSource:
    """A domains source from a list file (read and validated now)."""
    try:
        if path.stat().st_size > MAX_DOMAINS_FILE:
            raise ConfigError(f"domain list {str(path)!r} is larger than 16 MiB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read domain list {str(path)!r}: {exc}") from exc
    return DomainsSource(parse_domains(text, str(path)), str(path), **options)
