"""A foreground run's events, handed from the task that runs and stores the response
to whoever sends them: the terminal event is held back until that task has ended, so a
client that reads the response on seeing it finds it stored (every surface, one rule)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

STREAM_END = ("response.completed", "response.failed", "response.incomplete")


async def empty() -> AsyncIterator[dict[str, Any]]:
    return
    yield  # pragma: no cover


async def drain(first: dict[str, Any], queue: asyncio.Queue[dict[str, Any] | None],
                task: asyncio.Task[None]) -> AsyncIterator[dict[str, Any]]:
    """The run's events, its terminal one held back until the run is stored: a client that
    reads the response on seeing it finds it saved; if storing fails, it never comes."""
    terminal: dict[str, Any] | None = None
    try:
        event: dict[str, Any] | None = first
        while event is not None:
            if event.get("type") in STREAM_END:
                terminal = event
            else:
                yield event
            event = await queue.get()
        await task
        if terminal is not None:
            yield terminal
    finally:
        await stop(task)


async def stop(task: asyncio.Task[None]) -> None:
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
