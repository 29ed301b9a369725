"""Remote text made safe to show a person: one rule for terminals, panels and error lines.

Servers choose names, URLs, headers and error texts.  Printed as they are, they can drive the
reader's terminal: ``ESC ] 52`` writes the clipboard, ``ESC [ 2 J`` clears the screen, C1
controls (``U+009B`` is a one-character CSI) do the same on terminals that honour them, and
bidirectional overrides make text read differently from what it is ("Trojan Source").
:func:`printable` replaces each such character by a visible escape (``\\x1b``, ``\\u202e``), so
nothing is lost and nothing is interpreted.  Lone surrogates, which cannot even be encoded for
output, are escaped the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_line", "printable"]

# C0 and DEL, C1, the Unicode line/paragraph separators, every bidirectional formatting
# character (marks, embeddings, overrides, isolates) and lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` as a string with every terminal-active or invisible-direction character escaped."""
    value = text if isinstance(text, str) else str(text)
    if value.isascii() and value.isprintable():
        return value  # the common case: nothing to scan
    return _UNSAFE.sub(_escape, value)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_line(value: Any) -> str:
    """One line of JSON, readable (UTF-8, not ``\\u`` for every accent) yet safe to print.

    ``json.dumps`` escapes C0 controls itself; C1 controls, bidirectional controls, U+2028/9
    and lone surrogates it would write raw (the last cannot even be encoded for output).  They
    are written as ``\\uXXXX`` escapes instead: the same JSON value, every character kept.
    """
    text = json.dumps(value, ensure_ascii=False)
    return text if text.isascii() else _UNSAFE.sub(_json_escape, text)
