"""Deterministic tool, resource and prompt lists for one endpoint, with cursor pagination."""

from __future__ import annotations

import base64
import json
import random
from functools import lru_cache
from typing import Any

__all__ = ["decode_cursor", "encode_cursor", "page", "prompts", "resources", "tools"]

_VERBS = (
    "search",
    "get",
    "list",
    "create",
    "update",
    "delete",
    "fetch",
    "query",
    "summarize",
    "translate",
    "convert",
    "lookup",
    "analyze",
    "schedule",
    "send",
)
_NOUNS = (
    "issues",
    "documents",
    "records",
    "weather",
    "invoices",
    "contacts",
    "events",
    "files",
    "tickets",
    "repositories",
    "prices",
    "orders",
    "pages",
    "messages",
    "metrics",
    "users",
)
_TYPES = ("string", "integer", "number", "boolean")


def _schema(rng: random.Random, noun: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for i in range(rng.randint(0, 5)):
        kind = rng.choice(_TYPES)
        name = rng.choice(
            (
                "query",
                "id",
                "limit",
                "cursor",
                "region",
                "since",
                "format",
                "language",
                "owner",
                "status",
            )
        ) + ("" if i == 0 else f"_{i}")
        prop: dict[str, Any] = {"type": kind, "description": f"The {name} of the {noun}."}
        if kind == "string" and rng.random() < 0.3:
            prop["enum"] = ["asc", "desc"]
        if kind == "integer" and rng.random() < 0.5:
            prop.update(minimum=1, maximum=100, default=10)
        props[name] = prop
        if rng.random() < 0.5:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


@lru_cache(maxsize=512)
def tools(seed: int, count: int, hostile_text: bool = False) -> tuple[dict[str, Any], ...]:
    """``count`` realistic tool definitions; ``hostile_text`` adds NUL and ANSI escapes."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(count):
        verb, noun = rng.choice(_VERBS), rng.choice(_NOUNS)
        name = f"{verb}_{noun}" if i < 20 else f"{verb}_{noun}_{i}"
        if any(t["name"] == name for t in out):
            name = f"{name}_{i}"
        desc = f"{verb.capitalize()} {noun} in the connected account."
        if hostile_text and i % 2 == 0:
            name = f"{name}\u0000"
            desc = f"\u001b[31mIMPORTANT\u001b[0m {desc}\u0000\u001b[2K"
        tool: dict[str, Any] = {
            "name": name,
            "description": desc,
            "inputSchema": _schema(rng, noun),
        }
        if rng.random() < 0.3:
            tool["annotations"] = {"readOnlyHint": verb in ("get", "list", "search", "fetch")}
        out.append(tool)
    return tuple(out)


def resources(seed: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "uri": f"file:///data/doc-{seed % 997}-{i}.md",
            "name": f"doc-{i}",
            "mimeType": "text/markdown",
        }
        for i in range(count)
    ]


def prompts(seed: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"prompt_{i}",
            "description": f"Prompt template {i}.",
            "arguments": [{"name": "topic", "required": i % 2 == 0}],
        }
        for i in range(count)
    ]


def encode_cursor(offset: int, salt: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "s": salt}).encode()).decode()


def decode_cursor(cursor: object, salt: int) -> int | None:
    """The offset of a cursor we issued, None when invalid (→ -32602)."""
    if not isinstance(cursor, str):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("s") != salt or not isinstance(data.get("o"), int):
        return None
    offset: int = data["o"]
    return offset if offset >= 0 else None


def page(
    items: list[Any] | tuple[Any, ...], offset: int, size: int, salt: int
) -> tuple[list[Any], str | None]:
    chunk = list(items[offset : offset + size])
    nxt = offset + size
    return chunk, (encode_cursor(nxt, salt) if nxt < len(items) else None)
