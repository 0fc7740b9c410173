"""Server-sent events parsed straight from the bytes of a response body, as the
WHATWG ``text/event-stream`` rules say: lines end in CRLF, LF or CR; a blank line
dispatches; ``data`` lines join with ``\\n``; lines starting with ``:`` are
comments; one space after the colon is dropped. ``retry`` is ignored (we never
reconnect)."""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str
    data: bytes
    id: str | None = None


class SSEParser:
    """Feed it the body chunk by chunk; it returns the events each chunk completes."""

    __slots__ = ("_buffer", "_data", "_event", "_id", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []
        self._id: str | None = None
        self._skip_lf = False  # the last chunk ended in CR: a leading LF finishes that CRLF
        self._started = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(buffer) < 3 and _BOM.startswith(buffer):
                self._buffer = buffer
                return []
            self._started = True
            if buffer.startswith(_BOM):
                buffer = buffer[3:]
        end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
        if end < 0:
            self._buffer = buffer
            self._skip_lf = False
            return []
        self._buffer = buffer[end + 1:]
        self._skip_lf = buffer[end] == 0x0D and not self._buffer
        events: list[ServerSentEvent] = []
        for line in buffer[: end + 1].splitlines():
            if not line:
                if self._data:
                    events.append(ServerSentEvent(self._event or "message", b"\n".join(self._data), self._id))
                    self._data = []
                self._event = ""
                continue
            self._line(line)
        return events

    def _line(self, line: bytes) -> None:
        colon = line.find(b":")
        if colon == 0:
            return
        if colon < 0:
            name, value = line, b""
        else:
            name = line[:colon]
            value = line[colon + 2:] if line[colon + 1: colon + 2] == b" " else line[colon + 1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode(errors="replace")
        elif name == b"id" and b"\0" not in value:
            self._id = value.decode(errors="replace")
