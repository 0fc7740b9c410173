"""Wake-ups for readers following a response's stored events. Within one process
readers wake at once. Across processes a ``publish`` hook (PostgreSQL's LISTEN/NOTIFY,
``store/notices.py``) carries each wake-up to the others, which hand it to ``heard``;
without one, readers in other processes find new events by polling every
``poll_seconds``."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable

TOPIC = "response:"
POLL_ALONE = 0.5  # no notices between processes: a reader looks this often
POLL_WITH_NOTICES = 5.0  # notices wake readers; polling only covers a notice lost on a dropped connection


class EventSignals:
    def __init__(self, poll_seconds: float | None = None) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._publish: Callable[[str], None] | None = None
        self._poll_seconds = poll_seconds

    @property
    def poll_seconds(self) -> float:
        """How long a reader waits before it looks at the store again without a wake-up."""
        if self._poll_seconds is not None:
            return self._poll_seconds
        return POLL_ALONE if self._publish is None else POLL_WITH_NOTICES

    def connect(self, publish: Callable[[str], None]) -> None:
        """Wake-ups from here on go to the other processes too."""
        self._publish = publish

    def notify(self, response_id: str) -> None:
        self._wake(response_id)
        if self._publish is not None:
            self._publish(TOPIC + response_id)

    def heard(self, topic: str) -> None:
        """A wake-up another process published (or this one: it wakes nobody twice)."""
        if topic.startswith(TOPIC):
            self._wake(topic[len(TOPIC):])

    def _wake(self, response_id: str) -> None:
        for waiter in self._waiters.get(response_id, ()):
            waiter.set()

    async def wait(self, response_id: str, timeout: float | None = None) -> None:
        waiter = asyncio.Event()
        self._waiters[response_id].add(waiter)
        try:
            await asyncio.wait_for(waiter.wait(), self.poll_seconds if timeout is None else timeout)
        except TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(response_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[response_id]
