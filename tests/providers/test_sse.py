from __future__ import annotations

import pytest

from switchyard.providers.sse import ServerSentEvent, SSEParser

E = ServerSentEvent


def _parse(chunks: list[bytes]) -> list[ServerSentEvent]:
    parser = SSEParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


@pytest.mark.parametrize(("chunks", "expected"), [
    ([b"data: {}\n\n"], [E("message", b"{}")]),
    ([b"event: ping\ndata: {\"a\":1}\n\n"], [E("ping", b'{"a":1}')]),
    ([b"data: a\ndata: b\n\n"], [E("message", b"a\nb")]),
    ([b"data: a\r\ndata: b\r\n\r\n"], [E("message", b"a\nb")]),
    ([b"data: a\rdata: b\r\r"], [E("message", b"a\nb")]),
    ([b": keep-alive\n\ndata: x\n\n"], [E("message", b"x")]),
    ([b"data:x\n\n"], [E("message", b"x")]),
    ([b"data:  two spaces\n\n"], [E("message", b" two spaces")]),
    ([b"data\n\n"], [E("message", b"")]),
    ([b"data:\n\n"], [E("message", b"")]),
    ([b"event: only\n\n"], []),
    ([b"event: a\n\ndata: b\n\n"], [E("message", b"b")]),
    ([b"id: 7\ndata: x\n\ndata: y\n\n"], [E("message", b"x", "7"), E("message", b"y", "7")]),
    ([b"retry: 10\nunknown: z\ndata: x\n\n"], [E("message", b"x")]),
    ([b"data: a:b: c\n\n"], [E("message", b"a:b: c")]),
    ([b"data: [DONE]\n\n"], [E("message", b"[DONE]")]),
    ([b"data: unfinished"], []),
    ([b"data: unfinished\n"], []),
    ([b"\xef\xbb\xbfdata: bom\n\n"], [E("message", b"bom")]),
    ([b"\xef", b"\xbb", b"\xbfdata: bom\n\n"], [E("message", b"bom")]),
    ([b"data: \xef\xbb\xbfkept\n\n"], [E("message", b"\xef\xbb\xbfkept")]),
    ([b"da", b"ta: sp", b"lit\n", b"\n"], [E("message", b"split")]),
    ([b"data: crlf\r", b"\ndata: more\r", b"\n\r", b"\n"], [E("message", b"crlf\nmore")]),
    ([b"data: a\r", b"\r"], [E("message", b"a")]),
    ([b"event: e\r\ndata: 1\r\n\r\nevent: f\r\ndata: 2\r\n\r\n"], [E("e", b"1"), E("f", b"2")]),
    ([b"data: x\n\n\n\n"], [E("message", b"x")]),
])
def test_parses_the_event_stream(chunks: list[bytes], expected: list[ServerSentEvent]) -> None:
    assert _parse(chunks) == expected


def test_any_split_gives_the_same_events() -> None:
    body = b"event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: c\rdata: \xc3\xa9\r\rdata: x\n\n"
    whole = _parse([body])
    assert whole == [E("a", b"1\n2"), E("message", "é".encode()), E("message", b"x")]
    for cut in range(1, len(body)):
        assert _parse([body[:cut], body[cut:]]) == whole, cut
    assert _parse([body[i:i + 1] for i in range(len(body))]) == whole
