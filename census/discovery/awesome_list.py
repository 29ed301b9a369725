"""Awesome lists: Markdown pages listing remote endpoints, from a file or a URL.

Two shapes are read (fenced code blocks are ignored: they hold client configuration examples):

* **tables** whose header has a URL column (``URL``, ``Endpoint``, ``Server URL``…): every row
  is an entry, its URL the first http(s) URL in that column (backticks and links unwrapped);
  the other cells are kept as the raw entry.  jaw9c/awesome-remote-mcp-servers is this shape.
* **bullet lists**, only when the page has no such table: a bullet is an entry when it holds a
  URL that looks like an MCP endpoint (a path ending in ``/mcp`` or ``/sse``, or a host named
  ``mcp.…``), links to code hosts and package registries excepted.  Bullet lists mostly link
  repositories, so this is deliberately narrow.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from census.discovery.http import Fetcher, HttpPolicy
from census.discovery.source import ReadLog, make_candidate
from census.errors import ConfigError
from census.records import Candidate

__all__ = ["AwesomeListSource", "ListedUrl", "awesome_list_source", "parse_markdown"]

MAX_FILE_BYTES = 8 * 1024 * 1024
_URL = re.compile(r"https?://[^\s`<>()\[\]|\"']+")
_URL_HEADERS = re.compile(r"^(url|urls|endpoint|endpoint url|server url|mcp url|remote url)$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# Code hosts and directories whose pages are never endpoints.  (Package indexes are left to the
# path rule below: no committed file names a package registry's host.)
_NOT_ENDPOINT_HOSTS = (
    "github.com",
    "gitlab.com",
    "glama.ai",
    "smithery.ai",
    "modelcontextprotocol.io",
)


@dataclass(frozen=True, slots=True)
class ListedUrl:
    """One entry of a Markdown list: its URL and what else the row said."""

    url: str
    name: str | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AwesomeListSource:
    """An awesome-list page; ``text`` is pre-read for files, ``None`` when fetched from a URL."""

    location: str
    name: str = "awesome"
    kind: ClassVar[str] = "list"
    text: str | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)

    async def read(self, log: ReadLog) -> AsyncIterator[Candidate]:
        text = self.text
        if text is None:
            async with Fetcher(self.policy) as fetcher:
                fetched = await fetcher.get(self.location)
            if not fetched.ok:
                log.fail(f"{self.location}: {fetched.describe()}")
                return
            text = fetched.body.decode("utf-8", errors="replace")
        for listed in parse_markdown(text):
            log.entries += 1
            yield make_candidate(
                self.name,
                listed.url,
                listed.raw,
                server_name=listed.name,
                transport=None,
            )


def awesome_list_source(location: str, *, policy: HttpPolicy | None = None) -> AwesomeListSource:
    """An awesome-list source from a file path (read now) or an http(s) URL (read later)."""
    if location.startswith(("http://", "https://")):
        return AwesomeListSource(location, policy=policy or HttpPolicy())
    path = Path(location)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"awesome list {location!r} is larger than 8 MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read awesome list {location!r}: {exc}") from exc
    return AwesomeListSource(str(path), text=text, policy=policy or HttpPolicy())


def parse_markdown(text: str) -> list[ListedUrl]:
    """The entries of a Markdown list page (tables with a URL column, else endpoint bullets)."""
    lines = _without_code(text.splitlines())
    rows = _table_entries(lines)
    return rows if rows else _bullet_entries(lines)


def _without_code(lines: list[str]) -> list[str]:
    out: list[str] = []
    fence: str | None = None
    for line in lines:
        stripped = line.strip()
        marker = stripped[:3]
        if fence is None and marker in {"```", "~~~"}:
            fence = marker
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        out.append(line)
    return out


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body.removeprefix("|").removesuffix("|")
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


def _table_entries(lines: list[str]) -> list[ListedUrl]:
    entries: list[ListedUrl] = []
    i = 0
    while i + 1 < len(lines):
        header, separator = lines[i], lines[i + 1]
        if not (header.lstrip().startswith("|") and re.match(r"^\s*\|?\s*:?-{2,}", separator)):
            i += 1
            continue
        names = [re.sub(r"[*_`]", "", c).strip().lower() for c in _cells(header)]
        url_columns = [n for n, name in enumerate(names) if _URL_HEADERS.match(name)]
        i += 2
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            cells = _cells(lines[i])
            i += 1
            if not url_columns or len(cells) <= url_columns[0]:
                continue
            found = _URL.search(cells[url_columns[0]].replace("`", " "))
            if found is None:
                continue
            raw = {names[n] or f"column{n}": cells[n] for n in range(min(len(names), len(cells)))}
            name = raw.get("name")
            entries.append(ListedUrl(_trim(found.group(0)), _plain(name), raw))
    return entries


def _bullet_entries(lines: list[str]) -> list[ListedUrl]:
    entries: list[ListedUrl] = []
    for line in lines:
        if not _BULLET.match(line):
            continue
        for match in _URL.finditer(line):
            url = _trim(match.group(0))
            if _looks_like_endpoint(url):
                name = re.search(r"\[([^\]]+)\]", line)
                entries.append(
                    ListedUrl(url, _plain(name.group(1) if name else None), {"line": line.strip()})
                )
                break
    return entries


def _looks_like_endpoint(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in _NOT_ENDPOINT_HOSTS):
        return False
    path = parts.path.rstrip("/")
    return path.endswith(("/mcp", "/sse")) or host.startswith("mcp.")


def _trim(url: str) -> str:
    # Sentence punctuation and Markdown emphasis glued to a URL are not part of it.
    return url.rstrip(".,;:!*_~")


def _plain(text: str | None) -> str | None:
    if not text:
        return None
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[*_`]", "", text).strip() or None
