"""Tool definitions built exactly as the classifier builds them from ``tools/list`` items."""

from __future__ import annotations

from typing import Any

from census.classify.inventory import tool_definition
from census.records import ToolDefinition


def tool(
    name: str = "do_thing",
    description: str | None = "Does the thing.",
    schema: Any = None,
    **extra: Any,
) -> ToolDefinition:
    entry: dict[str, Any] = {"name": name}
    if description is not None:
        entry["description"] = description
    entry["inputSchema"] = schema if schema is not None else {"type": "object", "properties": {}}
    entry.update(extra)
    return tool_definition(entry)


def schema_with(prop: str, **fields: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {prop: {"type": "string", **fields}}}
