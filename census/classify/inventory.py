"""Counts and tool definitions: canonical JSON, its SHA-256, and its token count with an offline
tokenizer (``TOKENIZER``, recorded on every observation that counts tokens)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from census.classify.evidence import steps
from census.classify.status import list_outcomes
from census.classify.wire import rpc_message
from census.records import Evidence, ToolDefinition

__all__ = ["TOKENIZER", "Inventory", "canonical_json", "classify_inventory", "tool_definition"]

#: The offline tokenizer (bpe-openai); named in the data so token counts are comparable.
TOKENIZER = "o200k_base"


@dataclass(frozen=True, slots=True)
class Inventory:
    tool_count: int | None = None
    resource_count: int | None = None
    prompt_count: int | None = None
    tool_tokens: int | None = None
    tools: tuple[ToolDefinition, ...] = ()


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import bpe_openai

    return bpe_openai.get_encoding(TOKENIZER)


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 kept: the hashed and counted form."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def tool_definition(tool: dict[str, Any]) -> ToolDefinition:
    text = canonical_json(tool)
    name = tool.get("name")
    description = tool.get("description")
    return ToolDefinition(
        name=name if isinstance(name, str) else "",
        description=description if isinstance(description, str) else None,
        input_schema=tool.get("inputSchema"),
        canonical_json=text,
        sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        tokens=_token_count(text),
    )


#: Definitions longer than this are counted each time (they are rare; the cache stays small).
_CACHED_TEXT = 16_384


def _token_count(text: str) -> int:
    # Identical definitions recur across endpoints (one server package, many deployments):
    # counting is the costliest step of classifying a tool list, so recurring texts are cached.
    return _cached_count(text) if len(text) <= _CACHED_TEXT else _count(text)


def _count(text: str) -> int:
    # encode_ordinary: text such as "<|endoftext|>" in a description is just text.
    return len(_encoding().encode_ordinary(text))


_cached_count = lru_cache(maxsize=8192)(_count)


def _items(evidence: Evidence, era: str, method: str) -> list[Any]:
    key = method.split("/")[0]
    out: list[Any] = []
    for page in steps(evidence, f"{era}:{method}"):
        message = rpc_message(page)
        result = message.get("result") if message else None
        if isinstance(result, dict) and isinstance(result.get(key), list):
            out.extend(result[key])
    return out


def classify_inventory(evidence: Evidence, era: str | None) -> Inventory:
    """Counts of every listing that completed (empty when not listed or failed)."""
    if era is None:
        return Inventory()
    outcomes = list_outcomes(evidence, era)
    counts: dict[str, int | None] = {}
    for method in ("tools/list", "resources/list", "prompts/list"):
        ok = method in outcomes and outcomes[method] is None
        counts[method] = len(_items(evidence, era, method)) if ok else None
    tools: tuple[ToolDefinition, ...] = ()
    tokens: int | None = None
    if counts["tools/list"] is not None:
        tools = tuple(
            tool_definition(t) for t in _items(evidence, era, "tools/list") if isinstance(t, dict)
        )
        tokens = sum(t.tokens for t in tools)
    return Inventory(
        counts["tools/list"], counts["resources/list"], counts["prompts/list"], tokens, tools
    )
