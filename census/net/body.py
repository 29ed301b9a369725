"""Bounded content decoding: gzip/deflate/br inflated in bounded steps under a total cap.

A decompression bomb never allocates more than ``limit`` bytes plus one step: every inflate call
is given ``max_length`` (zlib) or ``output_buffer_limit`` (brotli).
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli

__all__ = ["BoundedDecoder", "DecodeError", "make_decoder"]

#: Largest output of one inflate step; small enough that a bomb stays bounded.
STEP = 64 << 10


class DecodeError(Exception):
    """The body claims an encoding but is not valid in it."""


class BoundedDecoder(Protocol):
    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``, returning at most ``room`` bytes (the rest is dropped)."""


class _Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return data[:room]


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)
        self._first = True
        self._wbits = wbits

    def feed(self, data: bytes, room: int) -> bytes:
        out = bytearray()
        pending = data
        try:
            while room - len(out) > 0 and (pending or self._d.unconsumed_tail):
                chunk = self._d.decompress(pending, min(STEP, room - len(out)))
                if not chunk and not self._d.unconsumed_tail:
                    break
                out += chunk
                pending = self._d.unconsumed_tail
        except zlib.error as exc:
            if self._first and self._wbits == zlib.MAX_WBITS | 32 and not out:
                # "deflate" sent as a raw stream (no zlib header), as some servers do.
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                self._wbits = -zlib.MAX_WBITS
                return self.feed(data, room)
            raise DecodeError(str(exc)) from exc
        self._first = False
        return bytes(out)


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes, room: int) -> bytes:
        out = bytearray()
        try:
            chunk = self._d.process(data, output_buffer_limit=min(STEP, room))
            out += chunk
            while len(out) < room and not self._d.can_accept_more_data():
                chunk = self._d.process(b"", output_buffer_limit=min(STEP, room - len(out)))
                if not chunk:
                    break
                out += chunk
        except brotli.error as exc:
            raise DecodeError(str(exc)) from exc
        return bytes(out[:room])


def make_decoder(content_encoding: str | None) -> BoundedDecoder:
    """A decoder for a Content-Encoding value (unknown encodings are passed through raw)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        # RFC 9110 deflate is zlib-wrapped; auto-detect zlib vs raw with wbits 32+.
        return _Zlib(zlib.MAX_WBITS | 32)
    if encoding == "br":
        return _Brotli()
    return _Identity()
