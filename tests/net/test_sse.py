import pytest

from census.net.sse import SSEEvent, SSEParser


@pytest.mark.parametrize(
    ("chunks", "events"),
    [
        (["event: message\r\ndata: {}\r\n\r\n"], [SSEEvent("message", "{}")]),
        (["data: a\ndata: b\n\n"], [SSEEvent("message", "a\nb")]),
        ([": keepalive\n\n", "data: x\n\n"], [SSEEvent("message", "x")]),
        (["id: 7\nretry: 1000\ndata:\n\n"], [SSEEvent("message", "", "7")]),  # priming event
        (["data: sp", "lit\r", "\n\r\n"], [SSEEvent("message", "split")]),
        (
            ["event: endpoint\rdata: /messages/?s=1\r\r", ": ping\r"],
            [SSEEvent("endpoint", "/messages/?s=1")],
        ),
        (["data: no end yet\n"], []),
    ],
)
def test_events_are_parsed_whatever_the_framing(chunks: list[str], events: list[SSEEvent]) -> None:
    parser = SSEParser()
    got: list[SSEEvent] = []
    for chunk in chunks:
        got.extend(parser.feed(chunk))
    assert got == events


def test_retry_and_last_event_id_are_recorded() -> None:
    parser = SSEParser()
    parser.feed("id: abc\nretry: 1500\ndata: {}\n\n")
    assert (parser.last_event_id, parser.retry_ms) == ("abc", 1500)


@pytest.mark.parametrize(
    "value",
    ["²", "٣", "１２", "1" * 5000, " 15", "15 ", "-1", "1.5", "", "0x10"],
)
def test_a_retry_that_is_not_ascii_digits_is_ignored_never_raised(value: str) -> None:
    # "²".isdigit() is True and int("²") raises; int("٣") is 3; int() refuses 4,300+ digits.
    parser = SSEParser()
    events = parser.feed(f"retry: {value}\ndata: x\n\n")
    assert events == [SSEEvent("message", "x")]
    assert parser.retry_ms is None
