"""Smithery's registry API (``https://api.smithery.ai``): paged server list, detail per server.

Every request needs ``Authorization: Bearer <key>``; the key comes from the environment variable
:data:`API_KEY_ENV` (read once by the CLI, passed down as a value).  A missing key is a
:class:`census.errors.ConfigError` — never a silently empty source — and a key the API refuses
(401/403) ends the read with that problem reported.

The list (``GET /servers?page=N&pageSize=100``) gives ``remote`` and sometimes a
``deploymentUrl``; when it does not, the detail (``GET /servers/{qualifiedName}``) gives
``deploymentUrl`` or ``connections[type=http].deploymentUrl`` (older: ``.url``).  Entries marked
``remote: false`` or with only stdio connections count as ``no_remote``.  Smithery URLs are
gateway URLs (``server.smithery.ai``, ``*.run.tools``): platform hosts by the known list.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from census.discovery.http import Fetched, Fetcher, HttpPolicy
from census.discovery.source import ReadLog, make_candidate
from census.errors import ConfigError
from census.records import Candidate

__all__ = ["API_KEY_ENV", "SMITHERY_URL", "SmitherySource", "deployment_url"]

SMITHERY_URL = "https://api.smithery.ai"
#: The environment variable holding the key ({SERVICE}_MCP_{KEY} naming).
API_KEY_ENV = "SMITHERY_MCP_API_KEY"


@dataclass(frozen=True, slots=True)
class SmitherySource:
    api_key: str = field(repr=False, default="")
    base_url: str = SMITHERY_URL
    name: str = "smithery"
    kind: ClassVar[str] = "directory"
    policy: HttpPolicy = field(default_factory=HttpPolicy)
    page_size: int = 100
    max_pages: int = 2000

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ConfigError(
                f"Smithery needs an API key: set {API_KEY_ENV} (a key from smithery.ai), "
                "or leave the smithery source out"
            )

    @property
    def location(self) -> str:
        return self.base_url

    async def read(self, log: ReadLog) -> AsyncIterator[Candidate]:
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        base = self.base_url.rstrip("/")
        async with Fetcher(self.policy) as fetcher:
            for page in range(1, self.max_pages + 1):
                url = f"{base}/servers?page={page}&pageSize={self.page_size}"
                data = _json(await fetcher.get(url, headers=headers), log, f"page {page}")
                servers = data.get("servers") if data is not None else None
                if data is None or not isinstance(servers, list):
                    if data is not None:
                        log.fail(f"page {page}: no servers list")
                    return
                pagination = data.get("pagination")
                total = pagination.get("totalPages") if isinstance(pagination, dict) else None
                if isinstance(pagination, dict) and isinstance(pagination.get("totalCount"), int):
                    log.expected = pagination["totalCount"]
                for item in servers:
                    log.entries += 1
                    candidate = await self._candidate(fetcher, headers, base, item, log)
                    if candidate is not None:
                        yield candidate
                if not servers or not isinstance(total, int) or page >= total:
                    return
            log.fail(f"page cap of {self.max_pages} pages reached")

    async def _candidate(
        self,
        fetcher: Fetcher,
        headers: Mapping[str, str],
        base: str,
        item: object,
        log: ReadLog,
    ) -> Candidate | None:
        if not isinstance(item, dict) or not isinstance(item.get("qualifiedName"), str):
            log.skipped["malformed_entry"] += 1
            return None
        if item.get("remote") is False:
            log.skipped["no_remote"] += 1
            return None
        name = item["qualifiedName"]
        raw: dict[str, Any] = dict(item)
        url = deployment_url(item)
        if url is None:
            detail_url = f"{base}/servers/{quote(name, safe='@/')}"
            detail = _json(await fetcher.get(detail_url, headers=headers), log, name, fatal=False)
            if detail is None:
                log.skipped["detail_unavailable"] += 1
                return None
            raw = {**raw, "detail": detail}
            url = deployment_url(detail)
        if url is None:
            log.skipped["no_remote"] += 1
            return None
        return make_candidate(
            self.name,
            url,
            raw,
            server_name=name,
            repository=item.get("homepage") if "github.com" in str(item.get("homepage")) else None,
            transport="streamable-http",
        )


def deployment_url(document: Mapping[str, Any]) -> str | None:
    """The remote URL of a Smithery list item or detail document, if it names one."""
    direct = document.get("deploymentUrl")
    if isinstance(direct, str) and direct:
        return direct
    connections = document.get("connections")
    if isinstance(connections, list):
        for connection in connections:
            if isinstance(connection, dict) and connection.get("type") in {"http", "shttp"}:
                url = connection.get("deploymentUrl") or connection.get("url")
                if isinstance(url, str) and url:
                    return url
    return None


def _json(
    fetched: Fetched, log: ReadLog, what: str, *, fatal: bool = True
) -> dict[str, Any] | None:
    if fetched.retried:
        log.incidents.append(f"{what}: retried after {', '.join(fetched.retried)}")
    if fetched.status in {401, 403}:
        log.fail(f"{what}: Smithery refused the API key (HTTP {fetched.status})")
        return None
    problem: str | None = None
    data: Any = None
    if not fetched.ok:
        problem = fetched.describe()
    else:
        try:
            data = json.loads(fetched.body)
        except ValueError:
            problem = "malformed (not JSON)"
        if problem is None and not isinstance(data, dict):
            problem = "malformed (not an object)"
    if problem is not None:
        if fatal:
            log.fail(f"{what}: {problem}")
        else:
            log.incidents.append(f"{what}: {problem}")
        return None
    return data if isinstance(data, dict) else None
