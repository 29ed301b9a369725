"""An incremental Server-Sent Events parser (WHATWG rules: LF, CRLF or CR, multi-line data,
comments ignored, ``retry`` and ``id`` recorded).  Pure and total: no field value makes it raise
(a ``retry`` that is not ASCII digits is ignored, as the standard says).  The client feeds it
bounded chunks."""

from __future__ import annotations

from dataclasses import dataclass

from census.net.headers import ascii_int

__all__ = ["SSEEvent", "SSEParser"]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str
    id: str | None = None


class SSEParser:
    """Feed text chunks, collect complete events (an event ends at a blank line)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, text: str) -> list[SSEEvent]:
        self._buffer += text
        events: list[SSEEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return events
            line, self._buffer = self._buffer[: cut[0]], self._buffer[cut[1] :]
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            if not self._data and not self._event:
                return None
            event = SSEEvent(self._event or "message", "\n".join(self._data), self._id)
            self._data, self._event = [], ""
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
            self.last_event_id = value
        elif name == "retry":
            # WHATWG: only ASCII digits ("²".isdigit() is True, int("²") raises); absurdly
            # long values are ignored too (census never reconnects on them anyway).
            retry = ascii_int(value) if value == value.strip() else None
            if retry is not None:
                self.retry_ms = retry
        return None


def _line_end(buffer: str) -> tuple[int, int] | None:
    """Position of the first line terminator and the index after it, or None if incomplete."""
    lf = buffer.find("\n")
    cr = buffer.find("\r", 0, lf if lf >= 0 else len(buffer))
    if cr < 0:
        return None if lf < 0 else (lf, lf + 1)
    if cr + 1 == len(buffer):
        return None  # maybe a CRLF split across chunks
    return (cr, cr + 2) if buffer[cr + 1] == "\n" else (cr, cr + 1)
