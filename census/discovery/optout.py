"""Opt-out: hosts, domains and URL prefixes whose operators asked not to be probed.

Applied twice: at discovery (a matching URL becomes a rejected candidate, reason
``opted_out``) and again right before probing (:meth:`OptOut.matches`), so an opt-out added
after discovery still protects the operator.

File format (``seeds/opt-out.txt``, ``--opt-out FILE``), one rule a line, ``#`` comments:

* ``example.com`` — that host **and every subdomain** (the usual opt-out wording);
* ``*.example.com`` — the same (the explicit spelling);
* ``https://host/path`` — every URL starting with this prefix (compared canonically).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from census.discovery.normalize import normalize_url
from census.errors import ConfigError

__all__ = ["OptOut", "load_opt_out", "parse_opt_out"]


@dataclass(frozen=True, slots=True)
class OptOut:
    """A set of opt-out rules."""

    domains: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def matches(self, url: str) -> bool:
        """True when the URL (raw or canonical) falls under any rule."""
        normalized = normalize_url(url)
        host = normalized.host
        labels = host.split(".")
        if any(".".join(labels[i:]) in self.domains for i in range(len(labels))):
            return True
        return any(_under(normalized.url, prefix) for prefix in self.prefixes)

    def __or__(self, other: OptOut) -> OptOut:
        return OptOut(self.domains | other.domains, self.prefixes + other.prefixes)

    def __len__(self) -> int:
        return len(self.domains) + len(self.prefixes)


def _under(url: str, prefix: str) -> bool:
    if not url.startswith(prefix):
        return False
    rest = url[len(prefix) :]
    # A prefix is a path boundary: https://h/mcp covers /mcp, /mcp/x, /mcp?q but not /mcpx.
    return not rest or prefix.endswith("/") or rest[0] in "/?"


def parse_opt_out(text: str, origin: str = "opt-out") -> OptOut:
    """Parse opt-out rules; a line that is neither a host nor a URL is a ConfigError."""
    domains: set[str] = set()
    prefixes: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        rule = line.split("#", 1)[0].strip().lower()
        if not rule:
            continue
        if "://" in rule:
            normalized = normalize_url(rule)
            if not normalized.host:
                raise ConfigError(f"{origin}:{number}: not a URL prefix: {rule!r}")
            prefixes.append(normalized.url)
            continue
        host = rule.removeprefix("*.").removeprefix(".").rstrip(".")
        if not host or any(c in host for c in "/ :@?") or ("." not in host and host != "localhost"):
            raise ConfigError(f"{origin}:{number}: not a host, domain or URL: {rule!r}")
        domains.add(host)
    return OptOut(frozenset(domains), tuple(prefixes))


def load_opt_out(paths: Iterable[Path]) -> OptOut:
    """The union of the rules in several files (missing files are a ConfigError)."""
    result = OptOut()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read opt-out file {str(path)!r}: {exc}") from exc
        result = result | parse_opt_out(text, str(path))
    return result
