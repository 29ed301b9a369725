"""The Wilson score interval and the one number format (pure functions).

Reference values are computed here from the closed form with ``statistics.NormalDist`` (an
independent route to z) and checked against published values: Newcombe (1998), "Two-sided
confidence intervals for the single proportion", Statistics in Medicine 17:857-872, Table I
(Wilson "score" method without continuity correction), and the ≈0.2553–0.3662 interval of
81/263 used as a worked example in the literature.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest

from census.report.stats import (
    fmt_count,
    fmt_number,
    fmt_percent,
    fmt_share,
    share_interval,
    wilson,
)


def _reference(k: int, n: int) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.975)
    p = k / n
    a = 2 * n * p + z * z
    b = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    c = 2 * (n + z * z)
    return (a - b) / c, (a + b) / c


@pytest.mark.parametrize(
    ("k", "n", "published"),
    [
        # Newcombe 1998, Table I, method 3 (score interval): 81/263, 15/148, 0/20, 1/29.
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_matches_published_values(k: int, n: int, published: tuple[float, float]) -> None:
    low, high = wilson(k, n) or (math.nan, math.nan)
    assert low == pytest.approx(published[0], abs=5e-5)
    assert high == pytest.approx(published[1], abs=5e-5)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (1, 2), (387, 1000), (5, 1412), (3, 7)])
def test_wilson_matches_the_closed_form(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(_reference(k, n), abs=1e-12)


def test_wilson_edges_are_exact_and_empty_populations_have_no_interval() -> None:
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=5e-5))
    assert wilson(10, 10) == (pytest.approx(0.7225, abs=5e-5), 1.0)
    assert wilson(1, 2) == pytest.approx((0.0945, 0.9055), abs=5e-5)
    assert wilson(0, 0) is None
    assert share_interval(0, 0) == (None, None)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_share_interval_is_in_percent_like_the_shares() -> None:
    # 387/1000 = 38.7%: the interval the README's example shows.
    assert share_interval(387, 1000) == (35.73, 41.76)


def test_one_number_format() -> None:
    assert fmt_percent(38.7) == "38.7%"
    assert fmt_percent(None) == "n/a"
    assert fmt_share(38.7, 35.73, 41.76) == "38.7% (35.7–41.8)"
    assert fmt_share(38.7) == "38.7%"
    assert fmt_count(1412) == "1,412"
    assert fmt_number(1234567) == "1,234,567"
    assert fmt_number(13.44) == "13.4"
    assert fmt_number(2.0) == "2"
    assert fmt_number(True) == "true"
    assert fmt_number(None) == ""
