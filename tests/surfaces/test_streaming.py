"""The stream pump, on virtual time (tests/virtual_time.py): every sleep and keep-alive
interval below is exact, so the tests can say how many keep-alives come and when, and
a lost wake-up fails as a deadlock instead of hanging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchyard.core.events import Event, Start, TextDelta
from switchyard.surfaces.openai.stream_out import openai_frames
from switchyard.surfaces.streaming import MAX_BUFFERED, event_batches, first_event, with_keepalive
from tests.virtual_time import on_virtual_time


async def _slow(closed: list[bool]) -> AsyncIterator[Event]:
    try:
        yield Start()
        await asyncio.sleep(0.25)
        yield TextDelta(0, "late")
        await asyncio.sleep(10)
        yield TextDelta(0, "never")
    finally:
        closed.append(True)


@on_virtual_time
async def test_keepalives_fill_gaps_and_closing_stops_the_source() -> None:
    closed: list[bool] = []
    events = _slow(closed)
    first = await first_event(events)
    seen: list[object] = []
    stream = with_keepalive(first, events, 0.1)
    async for item in stream:
        seen.append(item)
        if isinstance(item, TextDelta):
            break
    await stream.aclose()
    assert seen == [Start(), None, None, TextDelta(0, "late")]  # 0.25 s of silence: keep-alives at 0.1 and 0.2
    assert closed == [True]


@on_virtual_time
async def test_ends_when_the_source_ends() -> None:
    async def two() -> AsyncIterator[Event]:
        yield Start()
        yield TextDelta(0, "x")

    events = two()
    out = [e async for e in with_keepalive(await first_event(events), events, 5)]
    assert [type(e) for e in out] == [Start, TextDelta]


@on_virtual_time
async def test_events_ready_together_come_in_one_batch_and_a_lone_one_at_once() -> None:
    arrived: list[float] = []

    async def source() -> AsyncIterator[Event]:
        yield Start()
        for text in "abc":
            yield TextDelta(0, text)
        await asyncio.sleep(0.05)
        arrived.append(asyncio.get_running_loop().time())
        yield TextDelta(0, "d")

    events = source()
    batches = [b async for b in event_batches(await first_event(events), events, 5)]
    received = asyncio.get_running_loop().time()
    assert [[getattr(e, "text", None) for e in b] for b in batches] == [[None], ["a", "b", "c"], ["d"]]
    assert received == arrived[0]  # not held back until the keep-alive timer


@on_virtual_time
async def test_a_failing_source_raises_after_what_it_sent() -> None:
    async def source() -> AsyncIterator[Event]:
        yield Start()
        yield TextDelta(0, "x")
        raise RuntimeError("boom")

    seen: list[object] = []
    with pytest.raises(RuntimeError, match="boom"):
        async for item in with_keepalive(None, source(), 5):
            seen.append(item)
    assert [type(e) for e in seen] == [Start, TextDelta]


@on_virtual_time
async def test_a_fast_source_waits_for_a_slow_writer_and_closing_stops_it() -> None:
    produced: list[int] = []
    closed: list[bool] = []
    bound = 2 * MAX_BUFFERED + 1  # one batch taken by the writer, one buffered, one in hand

    async def endless() -> AsyncIterator[Event]:
        try:
            while len(produced) <= bound:
                produced.append(1)
                yield TextDelta(0, "x")
                await asyncio.sleep(0)
            raise AssertionError("the pump read past its buffer")
        finally:
            closed.append(True)

    batches = event_batches(None, endless(), 5)
    first = await anext(batches)
    await asyncio.sleep(1)  # virtual time moves only once the pump has stopped on its own
    assert len(first) <= MAX_BUFFERED and len(produced) <= bound
    await batches.aclose()
    assert closed == [True]


@on_virtual_time
async def test_keepalives_stop_when_events_flow() -> None:
    async def steady() -> AsyncIterator[Event]:
        for _ in range(8):
            await asyncio.sleep(0.03)
            yield TextDelta(0, "x")

    out = [e async for e in with_keepalive(None, steady(), 0.05)]
    assert out and all(e is not None for e in out)


@on_virtual_time
async def test_openai_frames_write_one_chunk_per_batch() -> None:
    class Encoder:
        def feed(self, event: Event) -> list[dict[str, str]]:
            return [{"t": getattr(event, "text", "start")}]

        def close(self) -> list[dict[str, str]]:
            return [{"t": "end"}]

    async def source() -> AsyncIterator[Event]:
        yield TextDelta(0, "a")
        yield TextDelta(0, "b")
        await asyncio.sleep(0.01)
        yield TextDelta(0, "c")

    chunks = [c async for c in openai_frames(Start(), source(), Encoder(), 5)]
    assert chunks == [b'data: {"t":"start"}\n\n', b'data: {"t":"a"}\n\ndata: {"t":"b"}\n\n',
                      b'data: {"t":"c"}\n\n', b'data: {"t":"end"}\n\ndata: [DONE]\n\n']


@on_virtual_time
async def test_no_keepalives_without_a_positive_interval() -> None:
    async def slow() -> AsyncIterator[Event]:
        await asyncio.sleep(0.05)
        yield TextDelta(0, "x")

    assert [e async for e in with_keepalive(None, slow(), 0)] == [TextDelta(0, "x")]
