"""Running a coroutine that stops as soon as a cancel is requested, even mid-wait."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.5


class RunCancelled(Exception):
    pass


async def watched(work: Coroutine[Any, Any, T], cancelled: Callable[[], Awaitable[bool]] | None) -> T:
    """``work``'s result; ``RunCancelled`` once ``cancelled()`` says so (polled)."""
    if cancelled is None:
        return await work
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_watch(cancelled))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise RunCancelled
    finally:
        watcher.cancel()
        task.cancel()


async def _watch(cancelled: Callable[[], Awaitable[bool]]) -> None:
    while not await cancelled():
        await asyncio.sleep(POLL_SECONDS)
