import pytest

from census.classify.ratelimit_headers import parse_rate_limit, parse_sf_list


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (
            '"burst";q=100;w=60,"daily";q=1000;w=86400',
            [{"name": "burst", "q": 100, "w": 60}, {"name": "daily", "q": 1000, "w": 86400}],
        ),
        ('"default";r=50;t=30', [{"name": "default", "r": 50, "t": 30}]),
        (
            '"p";q=10;qu="content-bytes";pk=:YWJj:',
            [{"name": "p", "q": 10, "qu": "content-bytes", "pk": "YWJj"}],
        ),
        ("default;r=0", [{"name": "default", "r": 0}]),
        ("", []),
        ("%%%", []),
    ],
)
def test_structured_field_lists_are_parsed_leniently(text: str, items: list) -> None:
    assert parse_sf_list(text) == items


def test_every_header_family_is_read() -> None:
    info = parse_rate_limit(
        {
            "ratelimit-policy": '"burst";q=100;w=60',
            "ratelimit": '"burst";r=0;t=12',
            "x-ratelimit-remaining": "5",
            "retry-after": "7",
        }
    )
    assert info.policies == ({"name": "burst", "q": 100, "w": 60},)
    assert info.exhausted is True
    assert info.legacy == {"x-ratelimit-remaining": "5"}
    assert info.retry_after_seconds == 7.0


@pytest.mark.parametrize(
    ("headers", "exhausted"),
    [({"x-ratelimit-remaining": "0"}, True), ({"ratelimit-remaining": "3"}, False), ({}, False)],
)
def test_an_exhausted_quota_is_recognised(headers: dict, exhausted: bool) -> None:
    assert parse_rate_limit(headers).exhausted is exhausted


def test_retry_after_as_an_http_date_in_the_past_is_zero_seconds() -> None:
    assert (
        parse_rate_limit({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}).retry_after_seconds
        == 0.0
    )
