"""Wake-ups for readers following a response's stored events. Within one process
readers wake at once; readers in other processes find new events by polling."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class EventSignals:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)

    def notify(self, response_id: str) -> None:
        for waiter in self._waiters.get(response_id, ()):
            waiter.set()

    async def wait(self, response_id: str, timeout: float) -> None:
        waiter = asyncio.Event()
        self._waiters[response_id].add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(response_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[response_id]
