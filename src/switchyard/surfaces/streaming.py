"""Driving an event stream out to a client: the first event is awaited before
the response starts (so early failures get a real HTTP status), and idle gaps
are filled with keep-alives.

One pump task per stream reads the source into a buffer; the writer takes
whatever is buffered in one go, so events that arrive together leave in one
socket write, and a lone event leaves at once. Keep-alives come from one timer
per stream that is re-armed lazily (not per event)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from switchyard.core.events import Event

T = TypeVar("T")

KEEPALIVE = None
MAX_BUFFERED = 256  # the pump waits for the writer past this many events (backpressure)


async def first_event(events: AsyncIterator[Event]) -> Event | None:
    """Raises the backend's ``SwitchyardError`` if it fails before its first event."""
    return await anext(events, None)


class _Pump:
    __slots__ = ("_done", "_error", "_interval", "_items", "_last", "_loop", "_room", "_source",
                 "_task", "_timer", "_waiter")

    def __init__(self, source: AsyncIterator[Any], interval: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._source = source
        self._interval = interval
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None  # the writer, waiting for items
        self._room: asyncio.Future[None] | None = None  # the pump, waiting for the writer
        self._last = self._loop.time()
        self._error: BaseException | None = None
        self._done = False
        self._timer = self._loop.call_at(self._last + interval, self._tick) if interval > 0 else None
        self._task = self._loop.create_task(self._run())

    async def _run(self) -> None:
        items, loop = self._items, self._loop
        try:
            async for item in self._source:
                items.append(item)
                self._last = loop.time()
                waiter = self._waiter
                if waiter is not None:
                    self._waiter = None
                    if not waiter.done():
                        waiter.set_result(None)
                if len(items) >= MAX_BUFFERED:
                    self._room = loop.create_future()
                    await self._room
        except Exception as exc:
            self._error = exc
        finally:
            self._done = True
            self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _tick(self) -> None:
        if self._done:
            self._timer = None
            return
        now = self._loop.time()
        due = self._last + self._interval
        if now >= due - 0.001:
            if not self._items:
                self._items.append(KEEPALIVE)
                self._wake()
            self._last = now
            due = now + self._interval
        self._timer = self._loop.call_at(due, self._tick)

    async def take(self) -> list[Any] | None:
        """Everything buffered (waiting if nothing is); ``None`` once the source ended."""
        while not self._items:
            if self._done:
                if self._error is not None:
                    raise self._error
                return None
            self._waiter = self._loop.create_future()
            await self._waiter
        batch = list(self._items)
        self._items.clear()
        room, self._room = self._room, None
        if room is not None and not room.done():
            room.set_result(None)
        return batch

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def event_batches(
    first: T | None, events: AsyncIterator[T], interval: float
) -> AsyncIterator[list[T | None]]:
    """The events, starting with ``first``, in the batches they became ready in;
    ``[None]`` whenever ``interval`` seconds pass without one (never if ``interval``
    is not positive). Closing this closes ``events``."""
    pump = _Pump(events, interval)
    try:
        if first is not None:
            yield [first]
        while (batch := await pump.take()) is not None:
            yield batch
    finally:
        await pump.close()


async def with_keepalive(
    first: T | None, events: AsyncIterator[T], interval: float
) -> AsyncIterator[T | None]:
    """The events one by one, starting with ``first``; ``None`` whenever ``interval``
    seconds pass without one."""
    batches = event_batches(first, events, interval)
    try:
        async for batch in batches:
            for event in batch:
                yield event
    finally:
        await batches.aclose()
