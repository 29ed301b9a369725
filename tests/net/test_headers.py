"""The one parser of numeric header and SSE field values: ASCII digits only, bounded, total."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from census.classify.ratelimit_headers import parse_rate_limit
from census.net.headers import RATE_LIMIT_HEADERS, ascii_int
from census.net.sse import SSEParser


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        (" 7\t", 7),
        ("0", 0),
        ("9" * 10, 9_999_999_999),
        ("9" * 11, None),
        ("9" * 5000, None),
        ("²", None),
        ("٣", None),
        ("１２", None),
        ("-3", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_ascii_int_reads_only_ascii_digits(value: str | None, expected: int | None) -> None:
    assert ascii_int(value) == expected


@pytest.mark.parametrize(
    "retry_after",
    [
        "²",
        "٣",
        "9" * 5000,
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Wed, ٢١ Oct 2015 07:28:00 GMT",
        "\x00",
    ],
)
def test_unparsable_retry_after_is_kept_raw_not_raised(retry_after: str) -> None:
    info = parse_rate_limit({"retry-after": retry_after})
    assert info.retry_after_seconds is None
    assert info.retry_after_raw == retry_after


def test_rate_limit_numbers_are_ascii_only() -> None:
    info = parse_rate_limit(
        {"ratelimit": "default;r=٠;t=²", "ratelimit-policy": f'"p";w=60;q={"9" * 5000}'}
    )
    assert info.limits[0]["r"] == "٠"  # not 0: a quota written in Arabic-Indic digits is no quota
    assert not info.exhausted
    assert set(info.policies[0]["q"]) == {"9"}  # kept as text, not a 2,000-digit int
    assert info.policies[0]["w"] == 60


#: Header values as aiohttp hands them over (undecodable bytes as surrogateescape: "\udcff").
_HEADER_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from('²٣0;=," \udcff'),
    max_size=80,
) | st.builds(lambda n: "9" * n, st.integers(0, 6000))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(RATE_LIMIT_HEADERS)), _HEADER_TEXT, max_size=6))
def test_rate_limit_parsing_is_total(headers: dict[str, str]) -> None:
    info = parse_rate_limit(headers)
    assert isinstance(info.exhausted, bool)
    assert info.retry_after_seconds is None or info.retry_after_seconds >= 0


@settings(max_examples=300, deadline=None)
@given(st.lists(_HEADER_TEXT | st.sampled_from(["retry: ", "data: ", "\r", "\n", "id: "])))
def test_the_sse_parser_is_total(chunks: list[str]) -> None:
    parser = SSEParser()
    for chunk in chunks:
        parser.feed(chunk)
    assert parser.retry_ms is None or 0 <= parser.retry_ms < 10**10
