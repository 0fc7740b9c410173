"""The PostgreSQL connections a process's job queues share: one asyncpg pool for every
kind of work's PgQueuer worker (``jobs/queue_runner.py``). Each worker's listener holds
one connection of it for as long as it runs; the queries (dequeue, heartbeats, enqueue,
cancel) share ``QUERY_CONNECTIONS`` more, so a process holds at most one connection per
kind plus ``QUERY_CONNECTIONS`` for its queues, however many kinds it runs."""

from __future__ import annotations

import asyncio

import asyncpg

QUERY_CONNECTIONS = 4


class QueuePool:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.listeners = 0
        self._pool: asyncpg.Pool | None = None
        self._lock: asyncio.Lock | None = None
        self._users = 0

    @property
    def max_size(self) -> int:
        return max(1, self.listeners) + QUERY_CONNECTIONS

    def register(self) -> None:
        """One more worker will listen on a connection of this pool (before it opens)."""
        self.listeners += 1

    async def acquire(self) -> asyncpg.Pool:
        """The pool, opened by its first user; each user ``release``s it once."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.max_size)
            self._users += 1
            return self._pool

    async def release(self) -> None:
        """Closes the pool once its last user is done with it."""
        if self._lock is None:
            return
        async with self._lock:
            self._users -= 1
            if self._users <= 0 and self._pool is not None:
                pool, self._pool = self._pool, None
                await pool.close()
