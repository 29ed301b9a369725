"""From command-line choices to the list of sources to read (pure: no network, no database).

Everything the user names is checked here, before any request: unknown source names, missing
files, malformed seed or domain files, a missing Smithery key, an unreadable testbed folder —
each a :class:`census.errors.ConfigError` with one clear line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from census.discovery.awesome_list import awesome_list_source
from census.discovery.docker_catalog import DockerCatalogSource
from census.discovery.domains import domains_source
from census.discovery.http import HttpPolicy
from census.discovery.official_registry import (
    GITHUB_REGISTRY_URL,
    OFFICIAL_REGISTRY_URL,
    RegistrySource,
)
from census.discovery.optout import OptOut, load_opt_out
from census.discovery.seed_file import seed_file_source, seed_files
from census.discovery.smithery import SMITHERY_URL, SmitherySource
from census.discovery.source import Source
from census.errors import ConfigError
from census.net.resolver import load_hosts_file

__all__ = [
    "AWESOME_URL",
    "SOURCE_NAMES",
    "DiscoverOptions",
    "Testbed",
    "load_testbed",
    "parse_since",
    "plan_opt_out",
    "plan_sources",
]

SOURCE_NAMES = ("official", "github", "docker", "smithery", "awesome", "seeds", "domains")
AWESOME_URL = "https://raw.githubusercontent.com/jaw9c/awesome-remote-mcp-servers/main/README.md"


@dataclass(frozen=True, slots=True)
class Testbed:
    """A simulated internet's ``--out`` folder: its mirrors, hosts file and CA."""

    folder: Path
    registries: Mapping[str, Any]
    hosts: Mapping[str, str]
    ca_file: Path | None


@dataclass(frozen=True, slots=True)
class DiscoverOptions:
    """What ``census discover`` was asked to do (all values; nothing read from the environment)."""

    sources: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()  # "URL" or "NAME=URL"
    seed_files: tuple[Path, ...] = ()
    domains_file: Path | None = None
    docker_dir: Path | None = None
    awesome: str | None = None
    since: datetime | None = None
    testbed: Path | None = None
    opt_out_files: tuple[Path, ...] = ()
    seeds_dir: Path | None = None
    smithery_key: str | None = None
    #: Seconds between requests to one registry (1.0 = the official registry's limit).
    min_interval: float = 1.0
    policy: HttpPolicy = field(default_factory=HttpPolicy)


def parse_since(text: str) -> datetime:
    """``--since``: an ISO date or RFC 3339 timestamp (UTC when no zone is given)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--since {text!r} is not a date (use 2026-11-01 or RFC 3339)") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_testbed(folder: Path) -> Testbed:
    """Read a testbed's registries.json, hosts file and CA bundle."""
    try:
        registries = json.loads((folder / "registries.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--testbed {str(folder)!r}: cannot read registries.json: {exc}") from exc
    if not isinstance(registries, dict):
        raise ConfigError(f"--testbed {str(folder)!r}: registries.json is not an object")
    hosts: dict[str, str] = {}
    if (folder / "hosts").exists():
        try:
            hosts = load_hosts_file(folder / "hosts")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--testbed {str(folder)!r}: malformed hosts file: {exc}") from exc
    ca = folder / "ca.pem"
    return Testbed(folder, registries, hosts, ca if ca.exists() else None)


def plan_opt_out(options: DiscoverOptions) -> OptOut:
    """The shipped opt-out list (``seeds/opt-out.txt``) plus every ``--opt-out`` file."""
    files = list(options.opt_out_files)
    if options.seeds_dir is not None and (options.seeds_dir / "opt-out.txt").exists():
        files.insert(0, options.seeds_dir / "opt-out.txt")
    if options.testbed is not None:
        # A simulated internet's operators opt out too (testbed.json names the file).
        name = "optouts.txt"
        try:
            meta = json.loads((options.testbed / "testbed.json").read_text(encoding="utf-8"))
            name = str(meta.get("optouts") or name)
        except (OSError, ValueError, AttributeError):
            pass
        if (options.testbed / name).exists():
            files.append(options.testbed / name)
    return load_opt_out(files)


def plan_sources(options: DiscoverOptions) -> list[Source]:
    """The sources to read, in a stable order, every user input validated."""
    unknown = [s for s in options.sources if s not in SOURCE_NAMES]
    if unknown:
        raise ConfigError(f"unknown source {unknown[0]!r}: choose from {', '.join(SOURCE_NAMES)}")
    testbed = load_testbed(options.testbed) if options.testbed is not None else None
    policy = options.policy
    if testbed is not None:
        policy = replace(policy, hosts=testbed.hosts, ca_file=testbed.ca_file, allow_private=True)
    registry_policy = replace(policy, min_interval=options.min_interval)
    mirrors: Mapping[str, Any] = testbed.registries if testbed is not None else {}
    explicit = set(options.sources)
    if explicit:
        wanted = explicit
    elif testbed is not None:
        wanted = {k for k in SOURCE_NAMES if mirrors.get(k)}
    else:
        wanted = {"official", "github", "awesome", "seeds"}
        wanted |= {"docker"} if options.docker_dir else set()
        wanted |= {"smithery"} if options.smithery_key else set()
    wanted |= {"domains"} if options.domains_file else set()

    if testbed is not None:
        # Inside a simulated internet, a missing mirror must never fall back to the real one.
        missing = sorted(
            n for n in wanted & {"official", "github", "smithery"} if not mirrors.get(n)
        )
        if missing:
            raise ConfigError(f"--testbed {str(testbed.folder)!r} has no {missing[0]} mirror")
    sources: list[Source] = []
    for name, default in (("official", OFFICIAL_REGISTRY_URL), ("github", GITHUB_REGISTRY_URL)):
        if name in wanted:
            base = _text(mirrors.get(name)) or default
            sources.append(RegistrySource(name, base, registry_policy, since=options.since))
    for spec in options.registries:
        name, base = _registry_spec(spec)
        sources.append(RegistrySource(name, base, registry_policy, since=options.since))
    if "docker" in wanted:
        folder = options.docker_dir or _path(mirrors.get("docker"))
        if folder is None:
            raise ConfigError(
                "the docker source needs --docker DIR (a docker/mcp-registry checkout)"
            )
        sources.append(DockerCatalogSource(folder))
    if "smithery" in wanted:
        key = options.smithery_key or _text(mirrors.get("smithery_key")) or ""
        base = _text(mirrors.get("smithery")) or SMITHERY_URL
        sources.append(SmitherySource(api_key=key, base_url=base, policy=registry_policy))
    if "awesome" in wanted:
        location = options.awesome or _text(mirrors.get("awesome"))
        if location is None and testbed is not None:
            raise ConfigError(f"--testbed {str(testbed.folder)!r} has no awesome mirror")
        location = location or AWESOME_URL
        sources.append(awesome_list_source(location, policy=policy))
    if "seeds" in wanted and options.seeds_dir is not None:
        sources.extend(seed_file_source(p) for p in seed_files(options.seeds_dir))
    sources.extend(seed_file_source(p) for p in options.seed_files)
    if "domains" in wanted:
        if options.domains_file is None:
            raise ConfigError("the domains source needs --domains FILE (one apex domain a line)")
        sources.append(
            domains_source(
                options.domains_file, policy=replace(policy, min_interval=0.0, attempts=1)
            )
        )
    names = [s.name for s in sources]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ConfigError(f"two sources would share the name {sorted(duplicated)[0]!r}")
    return sources


def _registry_spec(spec: str) -> tuple[str, str]:
    name, sep, url = spec.partition("=")
    if not sep or "://" in name:
        name, url = "", spec
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"--registry {spec!r} is not an http(s) URL")
    return (name.strip() or f"registry:{parts.netloc.lower()}"), url.strip()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _path(value: object) -> Path | None:
    return Path(value) if isinstance(value, str) and value else None
