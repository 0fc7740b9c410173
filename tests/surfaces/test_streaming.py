from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from switchyard.core.events import Event, Start, TextDelta
from switchyard.surfaces.streaming import first_event, with_keepalive


async def _slow(closed: list[bool]) -> AsyncIterator[Event]:
    try:
        yield Start()
        await asyncio.sleep(0.25)
        yield TextDelta(0, "late")
        await asyncio.sleep(10)
        yield TextDelta(0, "never")
    finally:
        closed.append(True)


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
    assert isinstance(seen[0], Start)
    assert seen[1:-1] and all(s is None for s in seen[1:-1])
    assert isinstance(seen[-1], TextDelta) and seen[-1].text == "late"
    assert closed == [True]


async def test_ends_when_the_source_ends() -> None:
    async def two() -> AsyncIterator[Event]:
        yield Start()
        yield TextDelta(0, "x")

    events = two()
    out = [e async for e in with_keepalive(await first_event(events), events, 5)]
    assert [type(e) for e in out] == [Start, TextDelta]
