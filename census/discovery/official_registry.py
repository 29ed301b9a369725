"""The official MCP registry API (``/v0.1/servers``) and every registry that speaks it.

GitHub's registry (``https://api.mcp.github.com``), PulseMCP's sub-registry and company
registries implement the same API, so one adapter serves them all by base URL.

The walk: ``GET {base}/v0.1/servers?limit=100&version=latest[&updated_since=…]``, then follow
``metadata.nextCursor`` (or the older ``next_cursor``), treating the cursor as opaque.  It ends
when no cursor comes back.  Defences, each reported in the :class:`ReadLog`:

* politeness: one request per ``policy.min_interval`` seconds (1 s for the official registry),
  429/5xx retried with backoff honouring ``Retry-After`` (in :mod:`census.discovery.http`);
* a page that stays 5xx, or is not the expected JSON after one re-fetch, ends the walk
  (incomplete: nothing can be skipped without the cursor it carries);
* a cursor seen before (a loop) ends the walk; so does the page cap;
* a malformed item is skipped and counted, the rest of the page is kept.

Items are read in the current schema (``{server, _meta}``, ``remotes[].type``) and the older
ones: the pre-launch seed's flat items with ``version_detail`` and ``remotes[].transport_type``,
GitHub's deprecated snake_case, hand-written ``transportType``.  Only the latest version of a
server counts (``version=latest`` is sent, and ``isLatest: false`` items are skipped in case a
registry ignores it).  Package transports (``packages[].transport.url``) are local listeners,
never endpoints.  ``deleted`` items become rejected candidates (tombstones); ``deprecated`` ones
are kept, their status preserved in the raw entry.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from census.discovery.http import Fetcher, HttpPolicy
from census.discovery.reasons import DiscoveryReason
from census.discovery.source import ReadLog, make_candidate
from census.errors import ConfigError
from census.records import Candidate

__all__ = [
    "GITHUB_REGISTRY_URL",
    "OFFICIAL_REGISTRY_URL",
    "RegistryEntry",
    "RegistrySource",
    "entry_candidates",
    "list_url",
    "parse_item",
]

OFFICIAL_REGISTRY_URL = "https://registry.modelcontextprotocol.io"
GITHUB_REGISTRY_URL = "https://api.mcp.github.com"
_OFFICIAL_META = "io.modelcontextprotocol.registry/official"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One registry item, reduced to what discovery needs (``raw`` is the item itself)."""

    name: str | None
    version: str | None
    repository: str | None
    status: str | None
    is_latest: bool
    remotes: tuple[tuple[object, object], ...]  # (url, declared transport)
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """A registry implementing the official ``/v0.1/servers`` API."""

    name: str
    base_url: str
    policy: HttpPolicy = field(default_factory=HttpPolicy)
    kind: ClassVar[str] = "registry"
    page_size: int = 100
    #: Stop after this many pages (the official registry had ~909 pages of all versions).
    max_pages: int = 5000
    since: datetime | None = None
    #: Extra request headers (e.g. a sub-registry's ``X-API-Key``); never stored.
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"registry URL {self.base_url!r} is not an http(s) URL")

    @property
    def location(self) -> str:
        return self.base_url

    async def read(self, log: ReadLog) -> AsyncIterator[Candidate]:
        seen_cursors: set[str] = set()
        cursor: str | None = None
        async with Fetcher(self.policy) as fetcher:
            for page in range(1, self.max_pages + 1):
                data = await self._page(fetcher, page, cursor, log)
                if data is None:
                    return
                for item in data["servers"]:
                    log.entries += 1
                    entry = parse_item(item)
                    if entry is None:
                        log.skipped["malformed_entry"] += 1
                        continue
                    for candidate in entry_candidates(self.name, entry, log):
                        yield candidate
                cursor = _next_cursor(data)
                if not cursor:
                    return
                if cursor in seen_cursors:
                    log.fail(f"page {page}: cursor {cursor[:60]!r} was already followed (a loop)")
                    return
                seen_cursors.add(cursor)
            log.fail(f"page cap of {self.max_pages} pages reached; the walk was cut short")

    async def _page(
        self, fetcher: Fetcher, page: int, cursor: str | None, log: ReadLog
    ) -> dict[str, Any] | None:
        url = list_url(self.base_url, self.page_size, cursor, self.since)
        why = ""
        # A malformed page is fetched once more: a cut-off transfer heals, a broken page does not.
        for _ in range(2):
            fetched = await fetcher.get(url, headers=self.headers)
            if fetched.retried:
                log.incidents.append(f"page {page}: retried after {', '.join(fetched.retried)}")
            if not fetched.ok:
                log.fail(f"page {page}: {fetched.describe()}")
                return None
            data, why = _decode_page(fetched.body)
            if data is not None:
                return data
            log.incidents.append(f"page {page}: malformed ({why}), fetched again")
        log.fail(f"page {page}: malformed ({why})")
        return None


def list_url(base_url: str, limit: int, cursor: str | None, since: datetime | None) -> str:
    """The list URL for one page (the base may already end in ``/v0.1`` or ``/v0.1/servers``)."""
    base = base_url.rstrip("/")
    if not base.endswith("/servers"):
        last = base.rsplit("/", 1)[-1]
        base = base + ("/servers" if last in {"v0", "v0.1"} else "/v0.1/servers")
    query: dict[str, str] = {"limit": str(limit), "version": "latest"}
    if cursor:
        query["cursor"] = cursor
    if since is not None:
        query["updated_since"] = since.isoformat().replace("+00:00", "Z")
    return f"{base}?{urlencode(query)}"


def _decode_page(body: bytes) -> tuple[dict[str, Any] | None, str]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"not JSON: {str(exc)[:80]}"
    if not isinstance(data, dict) or not isinstance(data.get("servers"), list):
        return None, "no servers list"
    return data, ""


def _next_cursor(data: Mapping[str, Any]) -> str | None:
    meta = data.get("metadata")
    if not isinstance(meta, dict):
        return None
    cursor = meta.get("nextCursor") or meta.get("next_cursor")
    return str(cursor) if isinstance(cursor, str | int) and str(cursor) else None


def parse_item(item: object) -> RegistryEntry | None:
    """Read one registry item in any known schema; ``None`` when it is not a server object."""
    if not isinstance(item, dict):
        return None
    server = item.get("server") if isinstance(item.get("server"), dict) else item
    if not isinstance(server, dict):
        return None
    meta = item.get("_meta")
    found = meta.get(_OFFICIAL_META) if isinstance(meta, dict) else None
    official: dict[str, Any] = found if isinstance(found, dict) else {}
    version_detail = server.get("version_detail")
    detail: dict[str, Any] = version_detail if isinstance(version_detail, dict) else {}
    is_latest = official.get("isLatest", detail.get("is_latest", True))
    repository = server.get("repository")
    remotes_raw = server.get("remotes") or []
    if not isinstance(remotes_raw, list):
        return None
    remotes = tuple(
        (
            remote.get("url", remote.get("serverUrl")),
            remote.get("type", remote.get("transport_type", remote.get("transportType"))),
        )
        for remote in remotes_raw
        if isinstance(remote, dict)
    )
    return RegistryEntry(
        name=_str(server.get("name")),
        version=_str(server.get("version")) or _str(detail.get("version")),
        repository=_str(repository.get("url")) if isinstance(repository, dict) else None,
        status=_str(official.get("status")) or _str(server.get("status")),
        is_latest=is_latest is not False,
        remotes=remotes,
        raw=item,
    )


def entry_candidates(source: str, entry: RegistryEntry, log: ReadLog) -> Iterator[Candidate]:
    """The candidates of one registry entry (none for old versions or local-only servers)."""
    if not entry.is_latest:
        log.skipped["superseded_version"] += 1
        return
    if not entry.remotes:
        log.skipped["no_remote"] += 1
        return
    tombstone = DiscoveryReason.DELETED.value if entry.status == "deleted" else None
    for url, declared in entry.remotes:
        yield make_candidate(
            source,
            url,
            entry.raw,
            server_name=entry.name,
            server_version=entry.version,
            repository=entry.repository,
            transport=declared,
            rejected=tombstone,
        )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
