import gzip
import zlib

import brotli
import pytest

from census.net.body import DecodeError, make_decoder


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send
        ("br", brotli.compress),
        ("identity", lambda b: b),
        (None, lambda b: b),
    ],
)
def test_each_encoding_round_trips(encoding: str | None, compress: object) -> None:
    data = b'{"jsonrpc":"2.0","id":1,"result":{}}' * 50
    decoder = make_decoder(encoding)
    assert decoder.feed(compress(data), 1 << 20) == data  # type: ignore[operator]


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("br", brotli.compress)]
)
def test_a_decompression_bomb_never_yields_more_than_the_room_given(
    encoding: str, compress: object
) -> None:
    bomb = compress(b"\0" * (64 << 20))  # type: ignore[operator]
    assert len(bomb) < 1 << 20
    out = make_decoder(encoding).feed(bomb, 256 << 10)
    assert len(out) == 256 << 10


def test_a_body_that_lies_about_its_encoding_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        make_decoder("gzip").feed(b"this is not gzip at all", 1024)
