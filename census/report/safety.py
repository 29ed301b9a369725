"""Output hygiene for values that came from remote servers.

Server names, URLs and tool descriptions are attacker-controlled.  Two rules, applied where the
value leaves census:

* a terminal never receives control characters (ANSI escapes could rewrite the screen, bidi
  overrides could reorder what a reader sees);
* a CSV cell never starts with a character a spreadsheet evaluates as a formula (``=``, ``+``,
  ``-``, ``@``, tab, carriage return).  Such a cell gets a leading apostrophe, which spreadsheets
  treat as "text" and hide; a cell already starting with an apostrophe gets one too, so
  :func:`unneutralize_cell` restores every original value exactly.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FORMULA_TRIGGERS", "clean_text", "neutralize_cell", "unneutralize_cell"]

#: First characters spreadsheets treat as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# Bidirectional overrides and isolates, zero-width joiners/marks used to hide text.
_INVISIBLE = {
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    0xFEFF,
}


def clean_text(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text safe for a terminal: escape sequences removed, other controls dropped.

    Tabs and newlines become spaces (a table cell is one line) unless ``keep_newlines``, which
    keeps ``\n`` for whole documents.
    """
    text = _ANSI.sub("", str(value))
    out = []
    for ch in text:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif ch in "\n\t":
            out.append(" ")
        elif ord(ch) in _INVISIBLE or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out)


def neutralize_cell(value: str) -> str:
    """A CSV cell that no spreadsheet evaluates as a formula (reversible)."""
    if value and (value[0] in FORMULA_TRIGGERS or value[0] == "'"):
        return "'" + value
    return value


def unneutralize_cell(value: str) -> str:
    """The original of a cell written by :func:`neutralize_cell`."""
    if value.startswith("'") and len(value) > 1 and value[1] in (*FORMULA_TRIGGERS, "'"):
        return value[1:]
    return value
