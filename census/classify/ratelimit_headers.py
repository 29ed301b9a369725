"""Rate-limit headers, parsed: IETF `RateLimit` / `RateLimit-Policy` (structured-field lists,
draft-ietf-httpapi-ratelimit-headers), the older `RateLimit-Limit/-Remaining/-Reset`, de-facto
`X-RateLimit-*` / `X-Rate-Limit-*`, and `Retry-After` (seconds or an HTTP date)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from census.net.headers import ascii_int

__all__ = ["RateLimitInfo", "parse_rate_limit", "parse_sf_list"]

_ITEM = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z*][A-Za-z0-9_\-.:%*/]*)((?:\s*;\s*[^;,]+)*)\s*')
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,12}\.[0-9]{1,3}")
_PARAM = re.compile(
    r'\s*;\s*([a-z*][a-z0-9_\-.*]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|:[^:]*:|[^;,\s]+))?'
)


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    policies: tuple[dict[str, Any], ...] = ()  # RateLimit-Policy items: name, q, w, qu, pk
    limits: tuple[dict[str, Any], ...] = ()  # RateLimit items: name, r, t
    legacy: dict[str, str] = field(default_factory=dict)  # *-limit/-remaining/-reset, raw
    retry_after_seconds: float | None = None
    retry_after_raw: str | None = None

    @property
    def exhausted(self) -> bool:
        """A quota at zero (`r=0`, or a remaining count of 0)."""
        if any(item.get("r") == 0 for item in self.limits):
            return True
        return any(k.endswith("remaining") and v.strip() == "0" for k, v in self.legacy.items())


def _value(raw: str | None) -> Any:
    if raw is None:
        return True
    if raw.startswith('"'):
        return raw[1:-1]
    if raw.startswith(":"):
        return raw.strip(":")  # a byte sequence (base64), kept as text
    # RFC 9651 numbers are ASCII: int()/float() would also take "٣" or "²"-like digits, and
    # int() raises past 4,300 digits.  Anything else stays the raw text.
    if _INTEGER.fullmatch(raw):
        return int(raw)
    if _DECIMAL.fullmatch(raw):
        return float(raw)
    return raw


def parse_sf_list(text: str) -> list[dict[str, Any]]:
    """A lenient RFC 9651 List of items with parameters: [{"name": …, param: value…}]."""
    items: list[dict[str, Any]] = []
    for part in _split(text[:2048]):
        match = _ITEM.fullmatch(part)
        if match is None:
            continue
        name = match.group(1)
        item: dict[str, Any] = {"name": name[1:-1] if name.startswith('"') else name}
        for param in _PARAM.finditer(match.group(2) or ""):
            item[param.group(1)] = _value(param.group(2))
        items.append(item)
    return items


def _split(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _retry_after(raw: str | None) -> float | None:
    if raw is None:
        return None
    value = raw.strip()
    seconds = ascii_int(value)
    if seconds is not None:
        return float(seconds)
    if not value.isascii():
        return None  # an HTTP-date is ASCII ("²", "٣" are digits only to str.isdigit)
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # not an HTTP-date (or one out of datetime's range)


def parse_rate_limit(headers: dict[str, str]) -> RateLimitInfo:
    """Everything rate-limit related in one response's (lower-cased) headers."""
    legacy = {
        k: v
        for k, v in headers.items()
        if k.startswith(("ratelimit-", "x-ratelimit-", "x-rate-limit-")) and k != "ratelimit-policy"
    }
    return RateLimitInfo(
        policies=tuple(parse_sf_list(headers.get("ratelimit-policy", ""))),
        limits=tuple(parse_sf_list(headers.get("ratelimit", ""))),
        legacy=legacy,
        retry_after_seconds=_retry_after(headers.get("retry-after")),
        retry_after_raw=headers.get("retry-after"),
    )
