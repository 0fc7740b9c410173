"""HttpUpstream against a raw loopback server: JSON, SSE, and how failures surface
(a raised SwitchyardError before the first event, a Failure event after it).

No step waits on the wall clock: the scripted server writes its next piece when the
client has shown it read the last one, and stays silent until the client hangs up."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event, Failure, TextDelta
from switchyard.providers.http_upstream import HttpUpstream, make_client
from switchyard.providers.upstream_errors import from_exception

Writer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class _Texts:
    """Each SSE event's data as one TextDelta."""

    def feed_sse(self, event: str, data: bytes) -> list[Event]:
        return [TextDelta(0, f"{event}:{data.decode()}")]

    def close(self) -> list[Event]:
        return [TextDelta(0, "closed")]


async def _serve(answer: Writer) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
        try:
            await answer(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1/x"


def _sse_head() -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _hang_up(reader: asyncio.StreamReader) -> None:
    """Until the client closes the connection (silent all the while)."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(1024):
            pass


async def _run(answer: Writer, *, stream: bool, timeout: float = 30,
               seen: Callable[[Event], None] = lambda _: None) -> list[Event] | object:
    """The request's JSON answer or stream events; ``seen`` is told of each event as it comes."""
    server, url = await _serve(answer)
    client = make_client(ModelConfig(name="m", provider="openai", timeout=timeout, connect_timeout=1))
    try:
        upstream = HttpUpstream(client, url, {"authorization": "Bearer k"})
        if not stream:
            return await upstream.post_json({"a": 1})
        events = []
        async for event in upstream.stream({"a": 1}, _Texts):
            events.append(event)
            seen(event)
        return events
    finally:
        await client.aclose()
        server.close()


async def test_json_answer() -> None:
    async def answer(_: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 8\r\n\r\n{\"ok\":1}")

    assert await _run(answer, stream=False) == {"ok": 1}


@pytest.mark.parametrize("stream", [False, True])
async def test_429_keeps_retry_after(stream: bool) -> None:
    async def answer(_: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        body = b'{"error": {"message": "slow down"}}'
        w.write(b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 3\r\ncontent-length: %d\r\n\r\n%s"
                % (len(body), body))

    with pytest.raises(SwitchyardError) as caught:
        await _run(answer, stream=stream)
    assert caught.value.kind is ErrorKind.RATE_LIMIT and caught.value.retry_after == "3"
    assert "slow down" in caught.value.message


async def test_sse_split_across_chunks_with_crlf() -> None:
    """Each piece goes out once the client decoded the event that ends the one before,
    so the CR|LF and "da"|"ta" splits reach the parser as separate reads."""
    pieces = (b"event: z\r\ndata: 0\r\n\r\nevent: a\r\ndata: 1\r", b"\n\r\n: comment\r\nda", b"ta: 2\r\n\r\n")
    decoded = {text: asyncio.Event() for text in ("z:0", "a:1")}

    async def answer(_: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(_sse_head())
        for piece, after in zip(pieces, (*decoded.values(), None), strict=True):
            w.write(_chunk(piece))
            await w.drain()
            if after is not None:
                await after.wait()
        w.write(b"0\r\n\r\n")

    def seen(event: Event) -> None:
        if isinstance(event, TextDelta) and event.text in decoded:
            decoded[event.text].set()

    events = await _run(answer, stream=True, seen=seen)
    assert [e.text for e in events] == ["z:0", "a:1", "message:2", "closed"]  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", [False, True])
async def test_refused_connection_is_upstream_error(stream: bool) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(ModelConfig(name="m", provider="openai", connect_timeout=1))
    upstream = HttpUpstream(client, f"http://127.0.0.1:{port}/v1/x", {})
    with pytest.raises(SwitchyardError) as caught:
        if stream:
            await anext(upstream.stream({}, _Texts))
        else:
            await upstream.post_json({})
    await client.aclose()
    assert caught.value.kind is ErrorKind.UPSTREAM and caught.value.status == 502


@pytest.mark.parametrize("stream", [False, True])
async def test_silence_past_the_read_timeout_is_504(stream: bool) -> None:
    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if stream:
            w.write(_sse_head())
        await _hang_up(r)

    with pytest.raises(SwitchyardError) as caught:
        await _run(answer, stream=stream, timeout=0.3)
    assert caught.value.kind is ErrorKind.TIMEOUT and caught.value.status == 504


@pytest.mark.parametrize("after", ["drop", "stall"])
async def test_failure_after_the_first_event_is_a_failure_event(after: str) -> None:
    """"drop": the connection breaks once the client has the first event (a read timeout
    far away); "stall": the upstream says nothing more until the client gives up."""
    first = asyncio.Event()

    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(_sse_head() + _chunk(b"data: 1\n\n"))
        await w.drain()
        if after == "drop":
            await first.wait()
        else:
            await _hang_up(r)
        w.transport.abort()

    events = await _run(answer, stream=True, timeout=30 if after == "drop" else 0.3,
                        seen=lambda _: first.set())
    assert isinstance(events, list) and events[0] == TextDelta(0, "message:1")
    assert isinstance(events[-1], Failure)
    kind = ErrorKind.UPSTREAM if after == "drop" else ErrorKind.TIMEOUT
    assert events[-1].error.kind is kind


async def test_closing_the_stream_early_closes_the_connection() -> None:
    gone = asyncio.Event()

    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(_sse_head() + _chunk(b"data: 1\n\n"))
        await w.drain()
        await _hang_up(r)  # the body never ends: only the client closing the connection gets past this
        gone.set()

    server, url = await _serve(answer)
    client = make_client(ModelConfig(name="m", provider="openai"))
    events: AsyncIterator[Event] = HttpUpstream(client, url, {}).stream({}, _Texts)
    assert await anext(events) == TextDelta(0, "message:1")
    await events.aclose()  # type: ignore[attr-defined]
    await gone.wait()  # a connection returned to the pool instead would hang here (pytest-timeout)
    await client.aclose()
    server.close()


@pytest.mark.parametrize(("exc", "kind"), [
    (aiohttp.ServerTimeoutError("read"), ErrorKind.TIMEOUT),
    (aiohttp.ConnectionTimeoutError("connect"), ErrorKind.TIMEOUT),
    (TimeoutError(), ErrorKind.TIMEOUT),
    (aiohttp.ServerDisconnectedError(), ErrorKind.UPSTREAM),
    (aiohttp.ClientPayloadError("cut"), ErrorKind.UPSTREAM),
    (ConnectionResetError(), ErrorKind.UPSTREAM),
    (ValueError("bad json"), ErrorKind.UPSTREAM),
])
def test_exceptions_map_to_kinds(exc: Exception, kind: ErrorKind) -> None:
    assert from_exception(exc).kind is kind


def test_unknown_exceptions_are_not_swallowed() -> None:
    with pytest.raises(RuntimeError):
        from_exception(RuntimeError("bug"))
