"""Where a background response's events go: the store's bounded event log, written in
batches, with a wake-up for readers after each batch. A batch is written
``FLUSH_SECONDS`` after its first event (or at once when it holds ``FLUSH_EVERY``), also
when no further event comes to push it out (a model that stalls mid-answer must not hold
back what it already said); the run flushes what is left before it stores its end.

A batch is never written per event: on a busy process the events of one answer can come
further apart than ``FLUSH_SECONDS``, and a write per event (a transaction and a notice
to every process) made each job cost more the busier the process was."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from switchyard.engine.responses.live import EventSignals
from switchyard.store.response_events import ResponseEventLog

FLUSH_EVERY = 32
FLUSH_SECONDS = 0.1


class StoredEventSink:
    def __init__(self, response_id: str, log: ResponseEventLog, signals: EventSignals) -> None:
        self.response_id = response_id
        self._log = log
        self._signals = signals
        self._buffer: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()  # batches are written one at a time, in order
        self._timer: asyncio.Task[None] | None = None

    async def __call__(self, event: dict[str, Any]) -> None:
        self._buffer.append(event)
        if len(self._buffer) >= FLUSH_EVERY:
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
            if not self._buffer:
                return
            batch, self._buffer = self._buffer, []
            await self._log.append(self.response_id, batch)
            self._signals.notify(self.response_id)
