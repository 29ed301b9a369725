"""Counts and tool definitions: canonical JSON, its SHA-256, and its token count with an offline
tokenizer (``TOKENIZER``, recorded on every observation that counts tokens).

**The canonical form** of a tool definition (what is hashed, stored and counted) is its JSON
text with keys sorted by code point, no insignificant whitespace and non-ASCII characters kept
as UTF-8 — RFC 8785 in spirit, with these rules for what RFC 8785 refuses or leaves open, so that
any value a server can send has one canonical form and computing it never raises:

* NaN, Infinity and -Infinity (Python's parser accepts them; ``1e999999`` parses as Infinity)
  become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
* integers are written exactly in decimal (not rounded to a double); one too long for Python to
  print (beyond 4,300 digits, never produced by a JSON parser) is the string of its hex form;
* a lone surrogate (``"\\ud800"`` in the server's JSON) is written as that JSON escape, so the
  text is valid UTF-8 and parses back to the same value;
* a container nested deeper than :data:`census.records.MAX_JSON_DEPTH` is the string of the
  subtree's own JSON text (same rules), so depth never depends on Python's recursion limit;
* floats are Python's shortest round-trip form (``1.0``, ``1e-07``) — unchanged from earlier
  releases, so hashes of ordinary definitions stay comparable across runs.

**Token counts** are exact for canonical texts up to :data:`TOKEN_COUNT_MAX_CHARS` characters.
A longer definition (a million-character description: the tokenizer refuses such input) is
counted on that prefix and scaled to its full length — an estimate, marked
``ToolDefinition.tokens_estimated`` and recorded in the stored evidence
(``notes.tokens_estimated``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from census.classify.evidence import steps
from census.classify.status import list_outcomes
from census.classify.wire import rpc_message
from census.records import MAX_JSON_DEPTH, Evidence, ToolDefinition

__all__ = [
    "TOKENIZER",
    "TOKEN_COUNT_MAX_CHARS",
    "Inventory",
    "canonical_json",
    "classify_inventory",
    "tool_definition",
]

#: The offline tokenizer (bpe-openai); named in the data so token counts are comparable.
TOKENIZER = "o200k_base"
#: Longest canonical text counted whole (5x the ``oversized_definition`` threshold); longer
#: texts are counted on this prefix and scaled (an estimate).
TOKEN_COUNT_MAX_CHARS = 100_000
#: Chunk size when the tokenizer refuses a text as a whole.
_CHUNK_CHARS = 10_000
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


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


def _dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_json(value: Any) -> str:
    """The canonical form (module docstring): valid UTF-8 JSON text; never raises."""
    try:
        text = _dumps(value)
    except (ValueError, TypeError, RecursionError):
        text = _dumps(_canonical_value(value, 0))
    else:
        # Fewer brackets than the depth limit cannot nest past it (the common, cheap case).
        if text.count("{") + text.count("[") > MAX_JSON_DEPTH and _too_deep(value):
            text = _dumps(_canonical_value(value, 0))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Only lone surrogates fail; backslashreplace writes them as JSON's \udXXX escape.
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _too_deep(value: Any) -> bool:
    """Whether a container sits at MAX_JSON_DEPTH (a walk over containers only)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth >= MAX_JSON_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend(
                (child, depth + 1) for child in children if isinstance(child, dict | list | tuple)
            )
    return False


def _canonical_value(value: Any, depth: int) -> Any:
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return _NON_FINITE.get(value, value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        try:
            str(value)
        except ValueError:  # more digits than Python prints
            return hex(value)
        return value
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_JSON_DEPTH:
            return _subtree_text(value)
        if isinstance(value, dict):
            return {str(k): _canonical_value(v, depth + 1) for k, v in value.items()}
        return [_canonical_value(v, depth + 1) for v in value]
    return str(value)


def _subtree_text(value: Any) -> str:
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (ValueError, TypeError, RecursionError):
        return f"<{type(value).__name__} nested deeper than Python's recursion limit>"


def tool_definition(tool: dict[str, Any]) -> ToolDefinition:
    """A listed tool as a content-addressed definition (never raises on what a server sent)."""
    text = canonical_json(tool)
    name = tool.get("name")
    description = tool.get("description")
    tokens, estimated = _token_count(text)
    return ToolDefinition(
        name=name if isinstance(name, str) else "",
        description=description if isinstance(description, str) else None,
        input_schema=tool.get("inputSchema"),
        canonical_json=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        tokens=tokens,
        tokens_estimated=estimated,
    )


#: Definitions longer than this are counted each time (they are rare; the cache stays small).
_CACHED_TEXT = 16_384


def _token_count(text: str) -> tuple[int, bool]:
    """(tokens, estimated): exact up to TOKEN_COUNT_MAX_CHARS, else scaled from that prefix."""
    if len(text) > TOKEN_COUNT_MAX_CHARS:
        counted = _count(text[:TOKEN_COUNT_MAX_CHARS])
        return math.ceil(counted * len(text) / TOKEN_COUNT_MAX_CHARS), True
    # Identical definitions recur across endpoints (one server package, many deployments):
    # counting is the costliest step of classifying a tool list, so recurring texts are cached.
    return (_cached_count(text) if len(text) <= _CACHED_TEXT else _count(text)), False


def _count(text: str) -> int:
    # encode_ordinary: text such as "<|endoftext|>" in a description is just text.
    try:
        return len(_encoding().encode_ordinary(text))
    except ValueError:  # "Input too long to encode safely": long runs without a split point
        pass
    try:
        return sum(
            len(_encoding().encode_ordinary(text[i : i + _CHUNK_CHARS]))
            for i in range(0, len(text), _CHUNK_CHARS)
        )
    except ValueError:
        return math.ceil(len(text) / 4)  # the usual characters-per-token rule of thumb


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
