"""The one step between classification and storage that makes every value PostgreSQL-storable.

Whatever a server sends becomes data: the observation writer (``census.store.observations``) and
the discovery writer (``census.store.discovery``) pass every text, every JSON document and every
indexed value through this module, so no remote value can make a batch write fail.  Each rule
replaces or truncates only what PostgreSQL (or Python's JSON encoder) cannot hold, in a
documented and — where possible — lossless way, and names itself in a flag.  The flags of one
observation are stored in its evidence as ``notes.sanitized`` (a sorted list); a discovery
listing's raw entry gets them as ``_census_sanitized``.

============  ===============================================================================
flag          rule
============  ===============================================================================
nul           U+0000 (refused by ``text`` and ``jsonb``) → the four characters ``\\x00``.
              Not JSON's ``\\u0000``: a stored body that was not valid JSON because of a raw
              NUL stays invalid (JSON has no ``\\x`` escape), so re-classifying the stored
              evidence gives the stored verdict.
surrogate     a lone surrogate U+D800…U+DFFF (a ``\\ud800`` escape in a server's JSON, or a
              header byte that is not UTF-8, decoded with ``surrogateescape``) → the six
              characters ``\\udXXX`` (lower-case hex; ``\\udc80`` is the byte 0x80).  A stored
              body still parses to the same value: JSON reads that escape back.
non_finite    NaN, Infinity, -Infinity (``jsonb`` has no such numbers; ``1e999999`` parses as
              Infinity) → the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
big_int       an integer beyond the double range (more than 308 digits, which most JSON
              readers cannot hold) → the string of its decimal digits (hex beyond 4,300).
depth         a container nested deeper than ``census.records.MAX_JSON_DEPTH`` (64) → a
              string: the subtree's JSON text (ASCII, escapes as JSON writes them), truncated
              to :data:`MAX_SUBTREE_BYTES`.
truncated     a value longer than its column or index allows → cut at a character boundary,
              with the marker ``…[truncated N bytes, sha256 H]`` (H: the first 16 hex digits
              of the whole value's SHA-256, so distinct values stay distinct in unique
              indexes).  B-tree index entries hold at most about 2,700 bytes, so indexed text
              (tool names, source names) is kept to :data:`MAX_INDEXED_BYTES`; an endpoint
              URL longer than that is not stored at all (discovery counts it ``invalid_url``:
              a cut URL would be another URL).  Unindexed ``text`` and ``jsonb`` hold up to
              1 GB: they are not cut.  An integer column value outside 32 bits is clamped.
============  ===============================================================================

The evidence document as a whole is capped at ``EVIDENCE_MAX_BYTES`` by shortening bodies (its
own note, ``evidence_shortened``).  The clean case — by far the most common — costs one
``json.dumps`` and a few C-speed substring tests; the recursive walk runs only when a check
fails.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from census.records import MAX_JSON_DEPTH, MAX_URL_BYTES, Observation, ToolDefinition

__all__ = [
    "FLAGS",
    "MAX_INDEXED_BYTES",
    "MAX_SUBTREE_BYTES",
    "MAX_URL_BYTES",
    "Sanitizer",
    "ordered",
    "storable_text",
]

#: Every flag this module records, in the order of the module table.
FLAGS = ("nul", "surrogate", "non_finite", "big_int", "depth", "truncated")
#: Indexed text is kept below PostgreSQL's b-tree entry limit (about 2,700 bytes).
MAX_INDEXED_BYTES = 2048
#: An over-deep subtree is kept as this many bytes of its JSON text at most.
MAX_SUBTREE_BYTES = 1024
_INT32 = (-(2**31), 2**31 - 1)
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_FLOAT_MAX = int(sys.float_info.max)
_CONTAINERS = (dict, list, tuple, set, frozenset)


def _escape_surrogates(text: str) -> str:
    # UTF-8 can encode every code point but surrogates: backslashreplace escapes exactly those.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _truncate(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()[:16]
    marker = f"…[truncated {len(data)} bytes, sha256 {digest}]"
    keep = max(0, max_bytes - len(marker.encode("utf-8")))
    return data[:keep].decode("utf-8", "ignore") + marker


def storable_text(text: str, max_bytes: int | None = None) -> tuple[str, set[str]]:
    """``text`` as PostgreSQL ``text`` accepts it, and the flags of what was changed."""
    return Sanitizer().text_and_flags(text, max_bytes)


class Sanitizer:
    """Applies the rules, collecting the flags of everything it changed (one per observation)."""

    __slots__ = ("flags",)

    def __init__(self) -> None:
        self.flags: set[str] = set()

    def text_and_flags(self, text: str, max_bytes: int | None = None) -> tuple[str, set[str]]:
        before = set(self.flags)
        out = self.text(text, max_bytes)
        return out, self.flags - before

    def text(self, text: str, max_bytes: int | None = None) -> str:
        """One text value (NUL, lone surrogates, and a byte cap when the column is indexed)."""
        if text.isascii():
            if "\x00" in text:
                self.flags.add("nul")
                text = text.replace("\x00", "\\x00")
            size = len(text)
        else:
            if "\x00" in text:
                self.flags.add("nul")
                text = text.replace("\x00", "\\x00")
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError:
                self.flags.add("surrogate")
                text = _escape_surrogates(text)
                size = len(text.encode("utf-8"))
        if max_bytes is not None and size > max_bytes:
            self.flags.add("truncated")
            text = _truncate(text, max_bytes)
        return text

    def optional_text(self, text: str | None, max_bytes: int | None = None) -> str | None:
        return None if text is None else self.text(text, max_bytes)

    def integer(self, value: int | None) -> int | None:
        """An ``integer`` column value (clamped to 32 bits)."""
        if value is None or _INT32[0] <= value <= _INT32[1]:
            return value
        self.flags.add("truncated")
        return max(_INT32[0], min(_INT32[1], value))

    def json_text(self, value: Any) -> str:
        """``value`` as JSON text that ``jsonb`` accepts (the clean case: one dumps)."""
        try:
            text = json.dumps(
                value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_scalar
            )
        except (ValueError, TypeError, RecursionError):
            return self._dumps(self.json_value(value))
        # "\\u0000" is how dumps writes NUL (a false alarm on an escaped backslash is only slow);
        # a short text with fewer brackets than the depth limit holds no deep or big value.
        if (
            "\\u0000" in text
            or (not text.isascii() and not _utf8_ok(text))
            or (
                (len(text) > _DIGITS or text.count("{") + text.count("[") > MAX_JSON_DEPTH)
                and _deep_or_big(value)
            )
        ):
            return self._dumps(self.json_value(value))
        return text

    def json_value(self, value: Any, depth: int = 0) -> Any:
        """A copy of ``value`` with every rule applied (the slow path: a recursive walk)."""
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if -_FLOAT_MAX <= value <= _FLOAT_MAX:
                return value
            self.flags.add("big_int")
            try:
                return str(value)
            except ValueError:  # beyond Python's 4,300-digit printing limit
                return hex(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            self.flags.add("non_finite")
            return "NaN" if math.isnan(value) else _NON_FINITE[value]
        if isinstance(value, dict | list | tuple | set | frozenset):
            if depth >= MAX_JSON_DEPTH:
                self.flags.add("depth")
                return self._subtree(value)
            if isinstance(value, dict):
                return {self.text(str(k)): self.json_value(v, depth + 1) for k, v in value.items()}
            return [self.json_value(v, depth + 1) for v in value]
        return self.text(_scalar(value))

    def _subtree(self, value: Any) -> str:
        try:
            text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=_scalar)
        except (ValueError, TypeError, RecursionError):
            text = f"<{type(value).__name__} nested deeper than Python's recursion limit>"
        if len(text) > MAX_SUBTREE_BYTES:
            self.flags.add("truncated")
            text = _truncate(text, MAX_SUBTREE_BYTES)
        return text

    @staticmethod
    def _dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def observation(self, observation: Observation) -> Observation:
        """The observation's text and integer columns made storable (tools: :meth:`tool`)."""
        changes: dict[str, Any] = {}
        for name in ("url", "protocol_version", "server_name", "server_version", "oauth_issuer"):
            value = getattr(observation, name)
            if isinstance(value, str):
                clean = self.text(value)
                if clean is not value:
                    changes[name] = clean
        for name in (
            "tool_count",
            "resource_count",
            "prompt_count",
            "tool_tokens",
            "tls_days_left",
        ):
            value = getattr(observation, name)
            if isinstance(value, int) and not isinstance(value, bool):
                clean_int = self.integer(value)
                if clean_int != value:
                    changes[name] = clean_int
        latency = observation.latency_ms
        if latency is not None and not math.isfinite(latency):
            self.flags.add("non_finite")
            changes["latency_ms"] = None
        return replace(observation, **changes) if changes else observation

    def tool(self, tool: ToolDefinition) -> tuple[str, str | None, str, str, int]:
        """(name, description, input_schema JSON, canonical JSON, tokens) as stored."""
        return (
            self.text(tool.name, MAX_INDEXED_BYTES),
            self.optional_text(tool.description),
            self.json_text(tool.input_schema),
            self.text(tool.canonical_json),
            self.integer(tool.tokens) or 0,
        )

    def note(self, notes: dict[str, Any], extra: Iterable[str] = ()) -> dict[str, Any]:
        """``notes`` with the collected flags (and ``extra``) recorded as ``sanitized``."""
        flags = ordered(self.flags.union(extra))
        return {**notes, "sanitized": flags} if flags else notes


def ordered(flags: Iterable[str]) -> list[str]:
    """Flags in the order of the module table (as stored)."""
    return sorted(flags, key=lambda f: (FLAGS.index(f) if f in FLAGS else len(FLAGS), f))


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Digits of the largest integer kept as a number (the double range).
_DIGITS = len(str(_FLOAT_MAX))


def _deep_or_big(value: Any) -> bool:
    """Whether a container sits at MAX_JSON_DEPTH or an integer is beyond the double range.

    A walk over containers only (strings are not entered), so evidence whose bodies hold
    thousands of brackets costs a few dozen steps.
    """
    if not isinstance(value, _CONTAINERS):
        return type(value) is int and not -_FLOAT_MAX <= value <= _FLOAT_MAX
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, _CONTAINERS):
                if depth + 1 >= MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
            elif type(child) is int and not -_FLOAT_MAX <= child <= _FLOAT_MAX:
                return True
    return False


def _scalar(value: Any) -> Any:
    """Values JSON has no type for (the ``default`` of every dumps here)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
