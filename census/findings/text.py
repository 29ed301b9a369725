"""Text helpers shared by the finding rules: walking a tool's strings, folding text for matching,
and turning a match into an evidence snippet that is safe to store, export and log.

Every walk is capped (depth, number of strings, characters) because tool definitions are remote
data: a hostile server may send a schema nested 10,000 levels deep or megabytes of text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from census.records import ToolDefinition

__all__ = [
    "MAX_DEPTH",
    "MAX_STRINGS",
    "MAX_TEXT",
    "REDACTED",
    "fold",
    "is_invisible",
    "redact_secrets",
    "shown",
    "snippet",
    "tool_strings",
    "visible",
]

#: Deepest JSON nesting walked in a tool definition.
MAX_DEPTH = 32
#: Most strings (keys and values) read from one tool definition.
MAX_STRINGS = 2_000
#: Most characters of one string that the rules look at.
MAX_TEXT = 100_000
#: Longest canonical JSON that is parsed again to reach annotations and output schemas.
MAX_CANONICAL = 2_000_000
#: Replaces a secret in evidence (the same word discovery uses in URLs).
REDACTED = "REDACTED"
#: Longest evidence snippet.
SNIPPET_CAP = 160

# Characters a reader does not see: format controls (zero-width, bidi, tags, BOM), variation
# selectors, and Hangul fillers.  C0/C1 controls are escaped separately by :func:`visible`.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
    (0xE0100, 0xE01EF),
)


_INVISIBLE = re.compile(
    "["
    + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in _INVISIBLE_RANGES)
    + "]"
)


def is_invisible(char: str) -> bool:
    """True for characters that render as nothing (the set the invisible-Unicode rule knows)."""
    return _INVISIBLE.match(char) is not None


def visible(text: str) -> str:
    """``text`` with every control and invisible character shown as ``<U+XXXX>``.

    Newlines and tabs become spaces: a snippet is one line.  ESC and other controls are escaped
    so that evidence never drives a terminal or hides text when printed or logged.
    """
    out: list[str] = []
    for char in text:
        if char in "\n\r\t":
            out.append(" ")
        elif is_invisible(char) or unicodedata.category(char) in ("Cc", "Cs", "Co", "Zl", "Zp"):
            out.append(f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)


# Credential shapes seen in the wild; each is replaced whole.  Names and values of
# ``key=value`` pairs whose name says "secret" are handled by _NAMED_SECRET.
_SECRET_SHAPES = re.compile(
    r"sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{16,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_\-]{30,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    re.IGNORECASE,  # text rules show folded (lower-case) evidence
)
_NAMED_SECRET = re.compile(
    r"(?i)\b(api[_\-]?key|apikey|access[_\-]?token|token|secret|client[_\-]?secret|password|"
    r"passwd|pwd|auth|authorization|bearer|sig|signature|key)(\s*[=:]\s*|\s+)"
    r"(?=[^\s\"'<>&]*[0-9])(?=[^\s\"'<>&]*[A-Za-z])([^\s\"'<>&{}$]{12,})"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@]+@")
# Whatever its name, a long opaque token mixing letters and digits is treated as a credential.
_OPAQUE = re.compile(
    r"(?<![\w\-+/=])(?=[\w\-+/=]{32,})(?=[\w\-+/=]*?[0-9])(?=[\w\-+/=]*?[A-Za-z])[\w\-+/=]+"
)


def redact_secrets(text: str) -> str:
    """``text`` with credential-shaped substrings replaced by ``REDACTED``.

    Covers well-known token formats, ``name=value`` pairs whose name says key/token/secret and
    whose value looks opaque (letters and digits, 12+ characters), URL userinfo, and any token
    of 32+ word characters mixing letters and digits.  Over-redaction is the intended failure
    mode: evidence loses a hash now and then, never leaks a key.
    """
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _SECRET_SHAPES.sub(REDACTED, text)
    text = _NAMED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _OPAQUE.sub(REDACTED, text)


def shown(text: str, cap: int = 120) -> str:
    """Any remote text made safe to store and print: secrets redacted, controls escaped, capped."""
    body = visible(redact_secrets(text[: cap * 4]))
    return body if len(body) <= cap else body[: cap - 1] + "…"


def snippet(text: str, start: int, end: int, context: int = 40) -> str:
    """The match ``text[start:end]`` with up to ``context`` characters before it, then as much
    as fits in ``SNIPPET_CAP``; secrets redacted, controls escaped.

    Redaction runs on whole blank-separated words (the window is widened to blanks, at most 200
    more characters each side, and split at a blank before the match), so a credential cut by
    the window is still recognised whole.
    """
    reach = context + 200
    left = max(0, start - context)
    while left > 0 and start - left < reach and not text[left - 1].isspace():
        left -= 1
    split = start
    while split > left and start - split < 200 and not text[split - 1].isspace():
        split -= 1
    right = min(len(text), end + context)
    while right < len(text) and right - end < reach and not text[right].isspace():
        right += 1
    before = _one_line(visible(redact_secrets(text[left:split])))
    after = _one_line(visible(redact_secrets(text[split:right])))
    if len(before) > context:
        before, left = before[-context:], left + 1  # mark the cut with the prefix below
    body = (before + after).strip()
    if len(body) > SNIPPET_CAP:
        body = body[: SNIPPET_CAP - 1] + "…"
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) and not body.endswith("…") else ""
    return f"{prefix}{body}{suffix}"


def _one_line(text: str) -> str:
    return re.sub(r" {2,}", " ", text)


def fold(text: str) -> str:
    """Text as the rules match it: invisible characters removed (so that ``ig\u200bnore`` still
    reads ``ignore``), NFKC-normalised (fullwidth and styled letters become plain), lower-cased,
    runs of blanks collapsed to one space (line breaks kept: they end sentences)."""
    text = text[:MAX_TEXT]
    if text.isascii():  # nothing invisible, and NFKC leaves ASCII as it is
        return _BLANKS.sub(" ", text.lower())
    stripped = _INVISIBLE.sub("", text)
    normal = unicodedata.normalize("NFKC", stripped).lower()
    return _BLANKS.sub(" ", normal)


_BLANKS = re.compile(r"[ \t\f\v]+")


def tool_strings(tool: ToolDefinition) -> Iterator[tuple[str, str]]:
    """Every string of a tool definition as ``(location, text)``: name, description, and each key
    and string value of the input schema and of any other field (title, annotations, output
    schema), because poisoning hides in parameter names, enums and defaults too."""
    yield "name", tool.name[:MAX_TEXT]
    if tool.description:
        yield "description", tool.description[:MAX_TEXT]
    budget = [MAX_STRINGS]
    yield from _walk(tool.input_schema, "inputSchema", 0, budget)
    for key, value in _other_fields(tool).items():
        yield from _walk(value, key, 0, budget)


def _other_fields(tool: ToolDefinition) -> dict[str, Any]:
    if len(tool.canonical_json) > MAX_CANONICAL:
        return {}
    try:
        data = json.loads(tool.canonical_json)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k not in ("name", "description", "inputSchema")}


def _walk(value: Any, location: str, depth: int, budget: list[int]) -> Iterator[tuple[str, str]]:
    if depth > MAX_DEPTH or budget[0] <= 0:
        return
    if isinstance(value, str):
        budget[0] -= 1
        yield location, value[:MAX_TEXT]
    elif isinstance(value, dict):
        for key, item in value.items():
            if budget[0] <= 0:
                return
            name = str(key)
            budget[0] -= 1
            yield f"{location}.{name}#key", name[:MAX_TEXT]
            yield from _walk(item, f"{location}.{name}", depth + 1, budget)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if budget[0] <= 0:
                return
            yield from _walk(item, f"{location}[{index}]", depth + 1, budget)
