"""``multipart/form-data`` request bodies, parsed as a stream.

``form_parts(request)`` yields each part's headers with an iterator over its body,
fed chunk by chunk from the socket by python-multipart's push parser, so a file
part can be streamed straight to disk; nothing holds a whole part in memory
unless the caller gathers it (``read_field`` does, with a small limit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 64
MAX_PART_HEADER_BYTES = 8 * 1024


@dataclass(frozen=True, slots=True)
class FormPart:
    name: str
    filename: str | None  # None for a plain field
    content_type: str | None


_Event = tuple[str, FormPart | bytes | None]  # ("begin", part) | ("data", bytes) | ("end", None)


class _Collector:
    """python-multipart's callbacks, turned into a list of events per written chunk."""

    def __init__(self) -> None:
        self.events: list[_Event] = []
        self.finished = False
        self.parts = 0
        self._headers: dict[str, str] = {}
        self._field = b""
        self._value = b""
        self._header_bytes = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise invalid(f"The form has more than {MAX_PARTS} parts.", None)
        self._headers, self._header_bytes = {}, 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._grow(end - start)
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow(end - start)
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.decode("latin-1").strip().lower()] = self._value.decode("latin-1").strip()
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise invalid("Every part of the form needs a 'Content-Disposition: form-data' header with a name.",
                          None)
        filename = options.get(b"filename")
        self.events.append(("begin", FormPart(
            name=name.decode("utf-8", "replace"),
            filename=None if filename is None else filename.decode("utf-8", "replace"),
            content_type=self._headers.get("content-type"),
        )))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self.events.append(("data", data[start:end]))

    def on_part_end(self) -> None:
        self.events.append(("end", None))

    def on_end(self) -> None:
        self.finished = True

    def _grow(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise invalid("The headers of a form part are too large.", None)


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise invalid("The request body must be multipart/form-data.", None)
    return boundary


async def _events(request: Request) -> AsyncIterator[_Event]:
    collector = _Collector()
    callbacks = {name: getattr(collector, name) for name in dir(collector) if name.startswith("on_")}
    parser = MultipartParser(_boundary(request), callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise invalid(f"The multipart/form-data body is malformed: {exc}", None) from exc
            events, collector.events = collector.events, []
            for event in events:
                yield event
    except ClientDisconnect as exc:
        raise SwitchyardError(ErrorKind.INVALID_REQUEST, "The client disconnected during the upload.") from exc
    if not collector.finished:
        raise invalid("The multipart/form-data body ended before its closing boundary.", None)


async def _body(events: AsyncIterator[_Event]) -> AsyncIterator[bytes]:
    async for kind, value in events:
        if kind == "data":
            assert isinstance(value, bytes)
            yield value
        elif kind == "end":
            return


async def form_parts(request: Request) -> AsyncIterator[tuple[FormPart, AsyncIterator[bytes]]]:
    """Each part in order with its body. A body left unread is skipped when the
    next part is asked for. Malformed bodies raise a 400."""
    events = _events(request)
    async for kind, value in events:
        if kind == "begin":  # "data" and "end" here belong to a body the caller skipped
            assert isinstance(value, FormPart)
            yield value, _body(events)


async def read_field(part: FormPart, body: AsyncIterator[bytes], max_bytes: int = MAX_FIELD_BYTES) -> str:
    """A plain form field's value as text."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in body:
        size += len(chunk)
        if size > max_bytes:
            raise invalid(f"'{part.name}' is longer than {max_bytes} bytes.", part.name)
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(f"'{part.name}' is not valid UTF-8 text.", part.name) from exc
