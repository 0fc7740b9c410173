"""Ledger rows leave the request path: they wait in memory and are written in batches,
every ``flush_seconds`` or as soon as ``batch_size`` are waiting. A round writes the rows
that were waiting when it began; rows that arrive while it writes wait for the next round
(under steady traffic a round that chased them wrote a few rows per transaction, back to
back, and took the request path's CPU). ``close()`` writes whatever is left, so a clean
shutdown loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from switchyard.store.ledger import LedgerEntry, RequestLog

log = logging.getLogger(__name__)

MAX_WAITING = 200_000  # past this (the database has been failing for long), the oldest rows go


class LedgerWriter:
    def __init__(self, ledger: RequestLog, *, flush_seconds: float, batch_size: int,
                 after_batch: Callable[[], Awaitable[None]] | None = None) -> None:
        self.ledger = ledger
        self._after_batch = after_batch  # other writes that ride along (budget spend)
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._waiting: list[LedgerEntry] = []
        self._due = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    def put(self, entry: LedgerEntry) -> None:
        self._waiting.append(entry)
        if len(self._waiting) >= self._batch_size:
            self._due.set()

    async def flush(self) -> None:
        """Write the rows waiting now."""
        async with self._lock:
            taken, self._waiting = self._waiting, []
            for start in range(0, len(taken), self._batch_size):
                try:
                    await self.ledger.record_many(taken[start:start + self._batch_size])
                except BaseException:
                    self._waiting[:0] = taken[start:]  # kept for the next round, ahead of newer rows
                    del self._waiting[:max(0, len(self._waiting) - MAX_WAITING)]
                    raise
            if self._after_batch is not None:
                await self._after_batch()

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self._flush_seconds)
            self._due.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("writing %d ledger rows failed; retrying", len(self._waiting))

    async def close(self) -> None:
        """Stops the writer between two batches (never mid-write), then writes the rest."""
        self._stopping = True
        self._due.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        while self._waiting:
            await self.flush()
