"""The Docker MCP catalog: a folder (or checkout of docker/mcp-registry) of ``server.yaml`` files.

Layouts read: ``servers/<name>/server.yaml`` (the repository) and flat ``<name>.server.yaml``
files (a copied slice).  Only ``type: remote`` entries name an endpoint, at ``remote.url`` with
``remote.transport_type``; other types are counted as ``no_remote``.  A file that is not valid
YAML is skipped and reported: it is the catalogue's defect, not the user's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

from census.discovery.source import ReadLog, make_candidate
from census.errors import ConfigError
from census.records import Candidate

__all__ = ["DockerCatalogSource", "catalog_files", "parse_server_yaml"]

#: A server.yaml is small; anything larger is not one.
MAX_FILE_BYTES = 1_048_576


@dataclass(frozen=True, slots=True)
class DockerCatalogSource:
    """The Docker MCP catalog read from a folder."""

    path: Path
    name: str = "docker"
    kind: ClassVar[str] = "catalog"

    def __post_init__(self) -> None:
        if not self.path.is_dir():
            raise ConfigError(f"Docker catalog folder {str(self.path)!r} does not exist")

    @property
    def location(self) -> str:
        return str(self.path)

    async def read(self, log: ReadLog) -> AsyncIterator[Candidate]:
        files = catalog_files(self.path)
        log.expected = len(files)
        for file in files:
            log.entries += 1
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError("larger than 1 MiB")
                document = parse_server_yaml(file.read_text(encoding="utf-8"))
            except (OSError, ValueError, yaml.YAMLError) as exc:
                log.skipped["malformed_entry"] += 1
                log.incidents.append(f"{file.name}: unreadable ({str(exc)[:80]})")
                continue
            remote = document.get("remote")
            if document.get("type") != "remote" or not isinstance(remote, dict):
                log.skipped["no_remote"] += 1
                continue
            source = document.get("source")
            repository = source.get("project") if isinstance(source, dict) else None
            yield make_candidate(
                self.name,
                remote.get("url"),
                document,
                server_name=document.get("name") or file.name.removesuffix(".server.yaml"),
                repository=repository,
                transport=remote.get("transport_type", remote.get("type")),
            )


def catalog_files(folder: Path) -> list[Path]:
    """Every server.yaml of a catalogue folder, in a stable order."""
    found = {*folder.rglob("server.yaml"), *folder.rglob("*.server.yaml")}
    return sorted(found)


def parse_server_yaml(text: str) -> dict[str, Any]:
    """One server.yaml as a mapping (safe loader: a catalogue file never runs code)."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError("not a YAML mapping")
    return document
