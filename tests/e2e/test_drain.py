"""A server told to stop (SIGTERM) drains: it refuses new connections at once, streams in
flight that end within ``drain_seconds`` arrive whole, and those still open at the deadline
end with their format's error event, which each official SDK raises as its error type:
Chat Completions, Anthropic Messages and the Responses API alike."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

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
