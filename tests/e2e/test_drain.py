"""A server told to stop (SIGTERM) drains: it refuses new connections at once, streams in
flight that end within ``drain_seconds`` arrive whole, and those still open at the deadline
end with their format's error event, which each official SDK raises as its error type:
Chat Completions, Anthropic Messages and the Responses API alike. WebSockets (the Responses
WebSocket mode, Realtime) stay open through the drain: an answer in flight finishes, then
the server closes the socket with 1012 (service restart)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, upstream_models
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream, Stream
from tests.server import MASTER_KEY, LiveServer

DRAIN = 5.0  # the server's drain_seconds
SHORT = 2.5  # a short stream pauses this long mid-answer: it ends inside the drain window
LONG = 120.0  # a long one pauses past any deadline here
SHUTTING_DOWN = "The server is shutting down"


@pytest.fixture
def server(tmp_path: Path, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path, upstream_models(fake_openai, fake_anthropic, timeout=LONG * 2),
                      drain_seconds=DRAIN)
    live.start(wait_ready=True)
    try:
        yield live
    finally:
        live.stop()


@dataclass
class Reader:
    """One streamed call read on its own thread: what arrived, and how it ended."""

    name: str
    read: Callable[[], Iterator[Any]]
    started: threading.Event = field(default_factory=threading.Event)
    items: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    ended_at: float = 0.0

    def run(self) -> None:
        try:
            for item in self.read():
                self.items.append(item)
                self.started.set()
        except BaseException as exc:  # what the SDK raised is the result
            self.error = exc
        finally:
            self.ended_at = time.monotonic()
            self.started.set()


def _paused(stream: Stream, seconds: float) -> Stream:
    """The frames up to the first text ("one "), then the pause, then the rest."""
    first_text = next(k for k, (_, data) in enumerate(stream.frames) if "one " in str(data))
    stream.stall = (first_text + 1, seconds)
    return stream


def _start(reader: Reader) -> threading.Thread:
    thread = threading.Thread(target=reader.run, name=reader.name, daemon=True)
    thread.start()
    assert reader.started.wait(60), f"{reader.name} never started"
    assert reader.error is None, reader.error
    return thread


def test_a_stopping_server_finishes_short_streams_and_ends_long_ones_with_the_error_event(
        server: LiveServer, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> None:
    oai = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    claude = anthropic.Anthropic(base_url=server.url, api_key=MASTER_KEY, max_retries=0, timeout=120)
    user = [{"role": "user", "content": "count"}]

    def chat() -> Iterator[Any]:
        return iter(oai.chat.completions.create(model=VIA_OPENAI, messages=user, stream=True))  # type: ignore[arg-type]

    def message() -> Iterator[Any]:
        return iter(claude.messages.create(model=VIA_ANTHROPIC, max_tokens=50, messages=user,  # type: ignore[arg-type]
                                           stream=True))

    def response() -> Iterator[Any]:
        return iter(oai.responses.create(model=VIA_OPENAI, input="count", stream=True))

    readers: list[tuple[Reader, bool]] = []
    threads = []
    for long in (True, False):  # the long ones first: each takes the next scripted answer
        pause = LONG if long else SHORT
        for name, call, upstream, stream in (
                ("chat", chat, fake_openai, ow.stream(["one ", "two ", "three"])),
                ("messages", message, fake_anthropic, aw.stream([aw.text("one two three")])),
                ("responses", response, fake_openai, ow.stream(["one ", "two ", "three"]))):
            upstream.script(_paused(stream, pause))
            reader = Reader(f"{name}-{'long' if long else 'short'}", call)
            threads.append(_start(reader))
            readers.append((reader, long))

    assert server.process is not None
    stopped_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    with pytest.raises(httpx.ConnectError):  # no new connections once draining
        httpx.get(server.url + "/health", timeout=5)
    for thread in threads:
        thread.join(DRAIN + 60)
        assert not thread.is_alive(), f"{thread.name} never ended"
    server.process.wait(timeout=60)
    server.process = None

    for reader, long in readers:
        assert reader.ended_at > stopped_at, f"{reader.name} ended before the stop: it tests nothing"
        kind = reader.name.split("-")[0]
        if not long:
            assert reader.error is None, f"{reader.name}: {reader.error!r}"
            assert _text(kind, reader.items) == "one two three", reader.name
            continue
        assert _text(kind, reader.items) == "one "  # what came before the pause
        if kind == "responses":  # the Responses stream ends with its own failure event
            assert reader.error is None, f"{reader.name}: {reader.error!r}"
            last = reader.items[-1]
            assert last.type == "response.failed", last
            assert last.response.status == "failed"
            assert last.response.error is not None and SHUTTING_DOWN in last.response.error.message
        elif kind == "chat":
            assert isinstance(reader.error, openai.APIError), reader.error
            assert SHUTTING_DOWN in reader.error.message
        else:
            assert isinstance(reader.error, anthropic.APIStatusError), reader.error
            assert SHUTTING_DOWN in reader.error.message
            assert reader.error.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def _text(kind: str, items: list[Any]) -> str:
    if kind == "chat":
        return "".join(chunk.choices[0].delta.content or "" for chunk in items if chunk.choices)
    if kind == "messages":
        return "".join(event.delta.text for event in items
                       if event.type == "content_block_delta" and event.delta.type == "text_delta")
    return "".join(event.delta for event in items if event.type == "response.output_text.delta")


@dataclass
class SocketReader:
    """One WebSocket read on its own thread: the events that arrived, and the close code."""

    name: str
    connection: Any
    started: threading.Event = field(default_factory=threading.Event)
    events: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    error: BaseException | None = None
    ended_at: float = 0.0

    def run(self) -> None:
        try:
            while True:
                self.events.append(json.loads(self.connection.recv_bytes()))
                if any(e["type"] == "response.output_text.delta" for e in self.events):
                    self.started.set()
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd is not None else None
        except BaseException as exc:
            self.error = exc
        finally:
            self.ended_at = time.monotonic()
            self.started.set()

    def types(self) -> list[str]:
        return [event["type"] for event in self.events]

    def text(self) -> str:
        return "".join(e.get("delta", "") for e in self.events if e["type"] == "response.output_text.delta")


def test_websockets_stay_open_through_the_drain_and_close_with_1012_once_idle(
        server: LiveServer, fake_openai: FakeUpstream) -> None:
    """An answer in flight on a socket finishes (or, past the deadline, ends with its failed
    event); then the server closes the socket with 1012. An idle socket is closed at once."""
    oai = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    threads = []

    def read(reader: SocketReader) -> SocketReader:
        """Reads on a thread, once the answer began (each takes the next scripted answer)."""
        thread = threading.Thread(target=reader.run, name=reader.name, daemon=True)
        thread.start()
        threads.append(thread)
        assert reader.started.wait(60), f"{reader.name} never started"
        assert reader.error is None and reader.close_code is None, (reader.name, reader.error)
        return reader

    with ExitStack() as stack:
        def responses_socket(name: str, pause: float) -> SocketReader:
            connection = stack.enter_context(oai.responses.connect())
            fake_openai.script(_paused(ow.stream(["one ", "two ", "three"]), pause))
            connection.response.create(model=VIA_OPENAI, input="count")
            return read(SocketReader(name, connection))

        long = responses_socket("responses-long", LONG)
        short = responses_socket("responses-short", SHORT)
        connection = stack.enter_context(oai.realtime.connect(model=VIA_OPENAI))
        fake_openai.script(_paused(ow.stream(["one ", "two ", "three"]), SHORT))
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        connection.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "count"}]})
        connection.response.create()
        realtime = read(SocketReader("realtime-short", connection))
        idle = SocketReader("responses-idle", stack.enter_context(oai.responses.connect()))
        idle.started.set()
        read(idle)

        assert server.process is not None
        stopped_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(DRAIN + 60)
            assert not thread.is_alive(), f"{thread.name} never ended"
    server.process.wait(timeout=60)
    server.process = None

    for reader in (long, short, realtime, idle):
        assert reader.error is None, f"{reader.name}: {reader.error!r}"
        assert reader.close_code == 1012, f"{reader.name} closed with {reader.close_code}"
        assert reader.ended_at > stopped_at
    assert idle.events == [] and idle.ended_at < short.ended_at  # closed while the others still answered
    assert short.types()[-1] == "response.completed" and short.text() == "one two three"
    assert realtime.types()[-1] in ("response.done", "rate_limits.updated")
    done = next(e for e in realtime.events if e["type"] == "response.done")
    assert done["response"]["status"] == "completed"
    assert "".join(e["delta"] for e in realtime.events if e["type"] == "response.output_text.delta") \
        == "one two three"
    assert long.types()[-1] == "response.failed" and long.text() == "one "
    assert SHUTTING_DOWN in long.events[-1]["response"]["error"]["message"]
    assert long.ended_at - stopped_at >= DRAIN  # it had the whole drain to finish
