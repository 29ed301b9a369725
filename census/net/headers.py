"""Header names the prober keeps and the classifiers read (pure data: any stage may import it)."""

from __future__ import annotations

__all__ = ["RATE_LIMIT_HEADERS"]

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
