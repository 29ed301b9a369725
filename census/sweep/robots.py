"""robots.txt (RFC 9309) for census's product token, read once per origin.

The group for ``census`` applies when there is one, else the ``*`` group; within it the longest
matching ``Allow``/``Disallow`` path wins and ``Allow`` wins a tie; ``*`` matches any run of
characters and a trailing ``$`` anchors the end.  How the file was answered decides the rest
(RFC 9309 §2.3.1): 2xx → its rules; 4xx (no file) → everything allowed; 5xx, or no answer once
the origin was reached → nothing allowed, as the RFC asks of an unreachable robots.txt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["ALLOW_ALL", "DISALLOW_ALL", "PRODUCT_TOKEN", "Robots", "parse_robots"]

#: The token census answers to in robots.txt (``User-agent: census``).
PRODUCT_TOKEN = "census"
#: What census reads of a robots.txt; the RFC asks parsers to read at least 500 KiB.
MAX_ROBOTS_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class Robots:
    """The rules of one origin's robots.txt that apply to census."""

    rules: tuple[tuple[bool, str], ...] = ()  # (allow, path pattern)
    #: Nothing allowed (5xx, or an unreadable answer).
    blocked: bool = False

    def allows(self, path: str) -> bool:
        if self.blocked:
            return False
        if path == "/robots.txt":
            return True
        best_len, allowed = -1, True
        for allow, pattern in self.rules:
            if not pattern:
                continue  # an empty Disallow allows everything
            if _matches(pattern, path) and (
                len(pattern) > best_len or (len(pattern) == best_len and allow)
            ):
                best_len, allowed = len(pattern), allow
        return allowed


ALLOW_ALL = Robots()
DISALLOW_ALL = Robots(blocked=True)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""))


def _matches(pattern: str, path: str) -> bool:
    if "*" not in pattern and not pattern.endswith("$"):
        return path.startswith(pattern)
    return _compiled(pattern).match(path) is not None


def parse_robots(text: str, token: str = PRODUCT_TOKEN) -> Robots:
    """The rules for ``token`` in a robots.txt body (its own group, else ``*``, else none)."""
    groups: dict[str, list[tuple[bool, str]]] = {}
    agents: list[str] = []
    in_rules = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:  # a user-agent after rules starts a new group
                agents, in_rules = [], False
            agents.append(value.lower())
            for agent in agents:
                groups.setdefault(agent, [])
        elif key in {"allow", "disallow"} and agents:
            in_rules = True
            for agent in agents:
                groups[agent].append((key == "allow", value))
    token = token.lower()
    rules = next(
        (rules for agent, rules in groups.items() if agent.split("/")[0].strip() == token),
        groups.get("*", []),
    )
    return Robots(tuple(rules))
