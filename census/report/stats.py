"""The numbers of a report: the 95% Wilson score interval of every share, and the one number
format every renderer uses.

Why Wilson: a crawl is one sample of a population that changes by the day, and many of its
shares are small (rate limiting, reflected CORS) or computed on small populations (OAuth
details); the normal approximation gives intervals below 0% or above 100% there, Wilson's never
does and keeps close to its nominal 95% coverage down to a handful of endpoints.

Shares are stored in percent (0-100, two decimals), so the interval bounds are too.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "Z95",
    "fmt_count",
    "fmt_number",
    "fmt_percent",
    "fmt_share",
    "percent",
    "share_interval",
    "wilson",
]

#: The standard normal quantile of 0.975 (two-sided 95%).
Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``trials`` as fractions (0-1);
    ``None`` when there are no trials.

    centre = (p + z²/2n) / (1 + z²/n),  half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in 0..{trials}, not {successes}")
    n, p = float(trials), successes / trials
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # Exact at the edges: the bounds are 0 and 1 there, not 1e-17 of rounding noise.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def percent(numerator: float, denominator: int) -> float | None:
    """``numerator / denominator`` in percent, two decimals (``None`` for an empty population)."""
    return round(100.0 * numerator / denominator, 2) if denominator else None


def share_interval(numerator: int, denominator: int) -> tuple[float | None, float | None]:
    """(ci_low, ci_high) of a share in percent, two decimals: how every share stores it."""
    bounds = wilson(numerator, denominator)
    if bounds is None:
        return None, None
    return round(100 * bounds[0], 2), round(100 * bounds[1], 2)


# --- the one number format ----------------------------------------------------------------------


def fmt_percent(value: float | None) -> str:
    """A percentage: one decimal and a % sign (``n/a`` when undefined)."""
    return "n/a" if value is None else f"{value:.1f}%"


def fmt_count(value: int | float | None) -> str:
    """A count with thousands separators."""
    return "" if value is None else f"{value:,.0f}"


def fmt_number(value: Any) -> str:
    """Any cell value: counts with thousands separators, other numbers with one decimal,
    booleans as true/false, text as is, ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return fmt_count(value)
    if isinstance(value, float):
        return fmt_count(value) if value.is_integer() else f"{value:,.1f}"
    return str(value)


def fmt_share(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A share with its interval: ``38.7% (36.2–41.2)``."""
    if value is None:
        return fmt_percent(None)
    if low is None or high is None:
        return fmt_percent(value)
    return f"{value:.1f}% ({low:.1f}–{high:.1f})"
