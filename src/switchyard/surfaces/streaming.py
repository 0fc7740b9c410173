"""Driving an event stream out to a client: the first event is awaited before
the response starts (so early failures get a real HTTP status), and idle gaps
are filled with keep-alives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from switchyard.core.events import Event

KEEPALIVE = None


async def first_event(events: AsyncIterator[Event]) -> Event | None:
    """Raises the backend's ``SwitchyardError`` if it fails before its first event."""
    return await anext(events, None)


async def with_keepalive(
    first: Event | None, events: AsyncIterator[Event], interval: float
) -> AsyncIterator[Event | None]:
    """The events, starting with ``first``; ``None`` whenever ``interval`` seconds
    pass without one."""
    if first is not None:
        yield first
    pending: asyncio.Task[Event] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield KEEPALIVE
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            finally:
                pending = None
            yield event
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
