"""Seed files: endpoint lists kept by hand (``seeds/``, ``--seed-file``).

Formats, chosen by the file's suffix:

* ``.txt`` (or anything else): one URL a line; ``#`` starts a comment; blank lines ignored.
* ``.csv``: a header row with a ``url`` column and optional ``name``, ``transport``, ``note``.
* ``.jsonl`` / ``.ndjson``: one JSON object a line with ``url`` and the same optional keys.
* ``.json``: a registry dump: a list of registry items or ``{"servers": [...]}``, in the
  current schema or the pre-launch seed's old one (``version_detail``,
  ``remotes[].transport_type``), read like the registry API's items.

A file that does not follow its format (a line that is not a URL, a CSV without ``url``, a JSON
line that is not an object, a NUL byte, a URL over 2,048 bytes, JSON nested deeper than 64
levels or holding a ``\u0000`` or a lone surrogate, a CSV field over the csv module's limit) is
the user's mistake: :class:`census.errors.ConfigError` naming the
file and line, raised when the source is built, before any network activity.  A well-formed URL
that discovery refuses (localhost, a template) is not an error: it is a counted rejection.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from census.discovery.official_registry import RegistryEntry, entry_candidates, parse_item
from census.discovery.source import ReadLog, make_candidate
from census.errors import ConfigError
from census.records import MAX_JSON_DEPTH, MAX_URL_BYTES, Candidate

__all__ = ["SeedEntry", "SeedFileSource", "parse_seed_text", "seed_file_source", "seed_files"]

MAX_FILE_BYTES = 64 * 1024 * 1024
# Deepest JSON accepted in a .jsonl line or a registry dump is census.records.MAX_JSON_DEPTH:
# real entries are under ten levels, and later steps (redaction, storage) walk values.
_UNSTORABLE_CHAR = re.compile("[\x00\ud800-\udfff]")
_OPTIONAL = ("name", "transport", "note")
#: Files in a seeds folder that are not endpoint lists.
_NOT_SEEDS = ("opt-out", "optout", "domains")


@dataclass(frozen=True, slots=True)
class SeedEntry:
    url: str
    name: str | None
    transport: str | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SeedFileSource:
    """One seed file, parsed and validated when built (see :func:`seed_file_source`)."""

    name: str
    location: str
    entries: tuple[SeedEntry, ...] = ()
    registry_entries: tuple[RegistryEntry | None, ...] = ()
    kind: ClassVar[str] = "seed"

    async def read(self, log: ReadLog) -> AsyncIterator[Candidate]:
        log.expected = len(self.entries) + len(self.registry_entries)
        for entry in self.entries:
            log.entries += 1
            yield make_candidate(
                self.name, entry.url, entry.raw, server_name=entry.name, transport=entry.transport
            )
        for registry_entry in self.registry_entries:
            log.entries += 1
            if registry_entry is None:
                log.skipped["malformed_entry"] += 1
                continue
            for candidate in entry_candidates(self.name, registry_entry, log):
                yield candidate


def seed_file_source(path: Path, *, name: str | None = None) -> SeedFileSource:
    """Read and validate a seed file; the source is named ``seed:<file name>`` by default."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"seed file {str(path)!r} is larger than 64 MiB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read seed file {str(path)!r}: {exc}") from exc
    if "\x00" in text:
        # No text format has one; PostgreSQL cannot store one: a binary file or a bad export.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(f"{path}:{line}: a NUL byte: not a text seed file")
    source_name = name or f"seed:{path.name}"
    if path.suffix.lower() == ".json":
        return SeedFileSource(source_name, str(path), registry_entries=_registry_dump(text, path))
    return SeedFileSource(source_name, str(path), entries=parse_seed_text(text, path))


def seed_files(folder: Path) -> list[Path]:
    """The endpoint lists of a seeds folder (opt-out and domain lists excluded)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in {".txt", ".csv", ".jsonl", ".ndjson", ".json"}
        and not p.name.lower().startswith(_NOT_SEEDS)
    )


def parse_seed_text(text: str, path: Path) -> tuple[SeedEntry, ...]:
    """Parse a plain-text, CSV or JSON-lines seed file (format from the path's suffix)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(text, path)
    if suffix in {".jsonl", ".ndjson"}:
        return _jsonl(text, path)
    return _plain(text, path)


def _plain(text: str, path: Path) -> tuple[SeedEntry, ...]:
    entries: list[SeedEntry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split(" #", 1)[0].strip()
        if not content or content.startswith("#"):
            continue
        if "://" not in content or any(c.isspace() for c in content):
            raise ConfigError(f"{path}:{number}: not a URL: {content[:80]!r}")
        _check_length(content, path, number)
        entries.append(SeedEntry(content, None, None, {"url": content, "line": number}))
    return tuple(entries)


def _csv(text: str, path: Path) -> tuple[SeedEntry, ...]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = [f.strip().lower() for f in reader.fieldnames or []]
    except csv.Error as exc:
        raise ConfigError(f"{path}:1: not readable as CSV: {exc}") from exc
    if "url" not in fields:
        raise ConfigError(f"{path}: a CSV seed file needs a header row with a 'url' column")
    entries: list[SeedEntry] = []
    try:
        for row in reader:
            values = {
                (k or "").strip().lower(): (v or "").strip()
                for k, v in row.items()
                if isinstance(v, str)
            }
            entries.append(_entry(values, path, reader.line_num))
    except csv.Error as exc:  # e.g. a field over the csv module's limit (128 KiB)
        # The underlying reader's count: DictReader's own is updated only after a good row.
        line = reader.reader.line_num
        raise ConfigError(f"{path}:{line}: not readable as CSV: {exc}") from exc
    return tuple(entries)


def _jsonl(text: str, path: Path) -> tuple[SeedEntry, ...]:
    entries: list[SeedEntry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value = _json(line, f"{path}:{number}")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}:{number}: expected a JSON object with a 'url' key")
        entries.append(_entry(value, path, number))
    return tuple(entries)


def _entry(values: dict[str, Any], path: Path, number: int) -> SeedEntry:
    url = values.get("url")
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"{path}:{number}: missing or malformed 'url': {str(url)[:80]!r}")
    _check_length(url.strip(), path, number)
    name = values.get("name")
    transport = values.get("transport")
    raw = {k: v for k, v in values.items() if k == "url" or k in _OPTIONAL or v not in ("", None)}
    return SeedEntry(
        url.strip(),
        name if isinstance(name, str) and name else None,
        transport if isinstance(transport, str) and transport else None,
        raw,
    )


def _check_length(url: str, path: Path, number: int) -> None:
    size = len(url.encode("utf-8", "surrogatepass"))
    if size > MAX_URL_BYTES:
        raise ConfigError(
            f"{path}:{number}: a URL of {size:,} bytes (at most {MAX_URL_BYTES:,}): {url[:60]!r}…"
        )


def _json(text: str, where: str) -> Any:
    """Parse JSON given by the user, refusing what no part of census could store or walk."""
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ConfigError(f"{where}: JSON nested too deeply to read") from exc
    except ValueError as exc:
        raise ConfigError(f"{where}: not JSON: {exc}") from exc
    problem = _unstorable(value)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    return value


def _unstorable(value: Any) -> str | None:
    """Why a parsed JSON value cannot be stored (None if it can): too deep, or a string with a
    NUL or a lone surrogate (``\\u0000``, ``\\ud800`` escapes), which PostgreSQL refuses."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and (bad := _UNSTORABLE_CHAR.search(item)):
            code = ord(bad.group())
            what = "a NUL character" if code == 0 else f"a lone surrogate (\\u{code:04x})"
            return f"a string holds {what}, which is not valid text: {item[:40]!r}"
    return None


def _registry_dump(text: str, path: Path) -> tuple[RegistryEntry | None, ...]:
    data = _json(text, str(path))
    items = data.get("servers") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError(
            f"{path}: a .json seed file must be a registry dump (a list of servers or "
            '{"servers": [...]}); use .txt, .csv or .jsonl for plain URL lists'
        )
    return tuple(parse_item(item) for item in items)
