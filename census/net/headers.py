"""Header names the prober keeps and the classifiers read, and the one parser of numeric header
and SSE field values (pure: any stage may import it)."""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "RATE_LIMIT_HEADERS", "ascii_int"]

#: Rate-limit signals: IETF RateLimit/RateLimit-Policy, the RateLimit-* and X-RateLimit-* /
#: X-Rate-Limit-* families, and Retry-After.
RATE_LIMIT_HEADERS = frozenset(
    {
        "ratelimit",
        "ratelimit-policy",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
        "retry-after",
    }
)

#: Longest digit string read as a number: ten digits is over 300 years in seconds, and
#: Python's int() refuses more than 4,300 digits with a ValueError.
MAX_DIGITS = 10
_DIGITS = frozenset("0123456789")


def ascii_int(value: str | None) -> int | None:
    """A non-negative integer written in ASCII digits only (``Retry-After`` delta-seconds,
    SSE ``retry``, rate-limit counts), or None.

    ``str.isdigit()`` and ``int()`` accept other scripts' digits (``"²".isdigit()`` is True and
    ``int("٣")`` is 3), which RFC 9110 and the WHATWG SSE rules do not; more than
    :data:`MAX_DIGITS` digits is not a number any client would wait for.  Never raises.
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if not text or len(text) > MAX_DIGITS or not _DIGITS.issuperset(text):
        return None
    return int(text)
