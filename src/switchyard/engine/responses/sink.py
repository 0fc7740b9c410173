"""Where a background response's events go: the store's bounded event log,
written in small batches, with a wake-up for readers after each batch. A batch
waits at most ``FLUSH_SECONDS``, also when no further event comes to push it out
(a model that stalls mid-answer must not hold back what it already said)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from switchyard.engine.responses.live import EventSignals
from switchyard.store.response_events import ResponseEventLog

FLUSH_EVERY = 32
FLUSH_SECONDS = 0.1
LIFECYCLE = ("response.created", "response.queued", "response.in_progress", "response.completed",
             "response.incomplete", "response.failed", "error")


class StoredEventSink:
    def __init__(self, response_id: str, log: ResponseEventLog, signals: EventSignals) -> None:
        self.response_id = response_id
        self._log = log
        self._signals = signals
        self._buffer: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._lock = asyncio.Lock()  # batches are written one at a time, in order
        self._timer: asyncio.Task[None] | None = None

    async def __call__(self, event: dict[str, Any]) -> None:
        self._buffer.append(event)
        due = time.monotonic() - self._last_flush >= FLUSH_SECONDS
        if due or len(self._buffer) >= FLUSH_EVERY or event.get("type") in LIFECYCLE:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        self._timer = None  # from here on it holds events: it must finish, not be cancelled
        await self._write()

    async def flush(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:  # still asleep, holding nothing
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
        await self._write()

    async def _write(self) -> None:
        async with self._lock:
            self._last_flush = time.monotonic()
            if not self._buffer:
                return
            batch, self._buffer = self._buffer, []
            await self._log.append(self.response_id, batch)
            self._signals.notify(self.response_id)
