"""Real, honest text shaped as tool definitions, for measuring false positives offline.

The registries in ``../shared/data/registries/`` hold no ``tools/list`` answers, but they hold the
same kind of prose publishers write into tool definitions: server descriptions and the
descriptions, defaults and placeholders of package arguments, environment variables and remote
headers.  Each registry entry becomes one pseudo tool: ``description`` = the server's
description, ``inputSchema.properties`` = one property per argument / variable / header with its
texts.  Registry metadata is CC0 (modelcontextprotocol/registry ``docs/terms.md`` §10); the Docker
catalogue is MIT (docker/mcp-registry).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from census.classify.inventory import tool_definition as classify_tool
from census.records import ToolDefinition

REGISTRIES = Path(__file__).resolve().parents[3] / "shared" / "data" / "registries"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "findings" / "registry_texts.json"

_TEXT_KEYS = ("description", "default", "value", "placeholder", "value_hint", "valueHint", "title")


def tool_definition(entry: dict[str, Any]) -> ToolDefinition:
    """A ToolDefinition exactly as the classifier builds it from a ``tools/list`` item."""
    return classify_tool({k: v for k, v in entry.items() if k != "origin"})


def _properties(node: Any, out: dict[str, Any], depth: int = 0) -> None:
    """Collect every dict carrying a description (arguments, env vars, headers) as a property."""
    if depth > 12:
        return
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            name = str(node.get("name") or node.get("value_hint") or f"arg{len(out)}")
            prop = {k: node[k] for k in _TEXT_KEYS if isinstance(node.get(k), str)}
            out.setdefault(name, prop)
        for value in node.values():
            _properties(value, out, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _properties(value, out, depth + 1)


def _entry(server: dict[str, Any], origin: str) -> dict[str, Any] | None:
    description = server.get("description")
    if not isinstance(description, str):
        about = server.get("about")
        description = about.get("description") if isinstance(about, dict) else None
    props: dict[str, Any] = {}
    for key in ("packages", "remotes", "remote", "config", "oauth", "secrets", "env"):
        _properties(server.get(key), props)
    if not isinstance(description, str) and not props:
        return None
    name = str(server.get("name", "")).rsplit("/", 1)[-1]
    return {
        "origin": origin,
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "properties": props},
    }


def registry_entries(root: Path = REGISTRIES) -> Iterator[dict[str, Any]]:
    """Every distinct pseudo tool of the shared registry data (deduplicated on content)."""
    seen: set[str] = set()

    def emit(server: Any, origin: str) -> Iterator[dict[str, Any]]:
        if not isinstance(server, dict):
            return
        entry = _entry(server, origin)
        if entry is None:
            return
        key = json.dumps({k: entry[k] for k in ("description", "inputSchema")}, sort_keys=True)
        if key not in seen:
            seen.add(key)
            yield entry

    for path in sorted(root.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data.get("servers", []) if isinstance(data, dict) else data
        for item in items:
            server = item.get("server", item) if isinstance(item, dict) else None
            yield from emit(server, path.name)
    for path in sorted((root / "docker-remote-servers").glob("*.yaml")):
        yield from emit(yaml.safe_load(path.read_text(encoding="utf-8")), f"docker/{path.name}")


def fixture_entries() -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = data["entries"]
    return entries
