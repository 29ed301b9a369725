"""A small authoritative DNS server on loopback UDP, answering from a rules function.

Nothing here keeps a table of names: every question is handed to ``answer(name, qtype)``, which
decides (the sweep world computes it from a hash of the name), so one server answers a million
names in constant memory.  Only what a sweep asks is implemented — A, AAAA, CNAME and TXT
records, NXDOMAIN, SERVFAIL, answers that come late and questions never answered — written in
DNS wire format (RFC 1035 §4) by hand: it is short, and the testbed needs no DNS library.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "AAAA",
    "CNAME",
    "NOERROR",
    "NXDOMAIN",
    "SERVFAIL",
    "TXT",
    "A",
    "Answer",
    "DnsServer",
    "Record",
    "build_response",
    "parse_question",
]

A, CNAME, TXT, AAAA = 1, 5, 16, 28
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3
_IN = 1
_TTL = 300
_BUFFER = 8 << 20


@dataclass(frozen=True, slots=True)
class Record:
    """One resource record: owner name, type and value (an address, a name or a text)."""

    name: str
    rtype: int
    value: str


@dataclass(frozen=True, slots=True)
class Answer:
    """How to answer one question: a response code with records, late, or not at all."""

    rcode: int = NOERROR
    records: tuple[Record, ...] = ()
    #: Seconds to wait before answering (a slow authoritative server).
    delay: float = 0.0
    #: Never answer (the client's timeout is what it sees).
    drop: bool = False


Rules = Callable[[str, int], Answer]


def parse_question(packet: bytes) -> tuple[int, int, bytes, str, int] | None:
    """(id, flags, raw question bytes, lower-case name, qtype) of a query; None if malformed."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack_from("!HHH", packet)
    if qdcount != 1 or flags & 0x8000:
        return None
    labels: list[str] = []
    at = 12
    while True:
        if at >= len(packet):
            return None
        size = packet[at]
        if size == 0:
            at += 1
            break
        if size > 63 or at + 1 + size > len(packet):
            return None  # compression pointers never appear in a question we accept
        labels.append(packet[at + 1 : at + 1 + size].decode("ascii", "replace").lower())
        at += 1 + size
    if at + 4 > len(packet):
        return None
    qtype, _qclass = struct.unpack_from("!HH", packet, at)
    return ident, flags, packet[12 : at + 4], ".".join(labels), qtype


def _name(name: str) -> bytes:
    out = bytearray()
    for label in name.strip(".").split("."):
        raw = label.encode("ascii")
        out.append(len(raw))
        out += raw
    out.append(0)
    return bytes(out)


def _rdata(record: Record) -> bytes:
    if record.rtype == A:
        return ipaddress.IPv4Address(record.value).packed
    if record.rtype == AAAA:
        return ipaddress.IPv6Address(record.value).packed
    if record.rtype == CNAME:
        return _name(record.value)
    raw = record.value.encode("utf-8")  # TXT: one or more <=255-byte character strings
    return b"".join(bytes([len(part)]) + part for part in _chunks(raw, 255))


def _chunks(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)] or [b""]


def build_response(ident: int, flags: int, question: bytes, answer: Answer) -> bytes:
    """The response datagram: the question echoed byte for byte, then the answer records."""
    # QR, AA, the client's RD bit; RA off (authoritative only); then the response code.
    out_flags = 0x8000 | 0x0400 | (flags & 0x0100) | (answer.rcode & 0xF)
    records = answer.records if answer.rcode == NOERROR else ()
    body = bytearray(struct.pack("!HHHHHH", ident, out_flags, 1, len(records), 0, 0))
    body += question
    for record in records:
        rdata = _rdata(record)
        body += _name(record.name)
        body += struct.pack("!HHIH", record.rtype, _IN, _TTL, len(rdata))
        body += rdata
    return bytes(body)


@dataclass
class _Protocol(asyncio.DatagramProtocol):
    rules: Rules
    transport: asyncio.DatagramTransport | None = None
    answered: int = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport here

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        question = parse_question(data)
        if question is None:
            return
        ident, flags, raw, name, qtype = question
        try:
            answer = self.rules(name, qtype)
        except Exception:  # a bug in the rules must not stop the server: SERVFAIL, as BIND would
            answer = Answer(rcode=SERVFAIL)
        if answer.drop:
            return
        packet = build_response(ident, flags, raw, answer)
        if answer.delay > 0:
            # A late answer after close() finds the transport closing and is dropped.
            asyncio.get_running_loop().call_later(answer.delay, self._send, packet, addr)
            return
        self._send(packet, addr)

    def _send(self, packet: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(packet, addr)
            self.answered += 1


class DnsServer:
    """``async with DnsServer(rules) as server:`` — ``server.address`` is ``"127.0.0.1:PORT"``."""

    def __init__(self, rules: Rules, host: str = "127.0.0.1", port: int = 0) -> None:
        self._protocol = _Protocol(rules)
        self._host, self._port = host, port
        self.port = 0

    @property
    def address(self) -> str:
        return f"{self._host}:{self.port}"

    @property
    def answered(self) -> int:
        return self._protocol.answered

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Thousands of questions arrive in one burst: a default-sized buffer (about 270
        # datagrams) would drop most of them, and the client would see timeouts that a real
        # authoritative server would never cause.
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, _BUFFER)
        sock.bind((self._host, self._port))
        transport, _ = await loop.create_datagram_endpoint(lambda: self._protocol, sock=sock)
        self.port = transport.get_extra_info("sockname")[1]

    async def close(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()

    async def __aenter__(self) -> DnsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
