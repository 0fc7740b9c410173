"""The background upkeep both per-store indexes of a process share (the faiss graphs of
``ann.py``, the tantivy indexes of ``text_index.py``): one refresh of a store at a time, run
in the background when asked, and run once more when asked again meanwhile."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Upkeep:
    """What a store's entry holds for its refreshes."""

    version: int = -1  # the store version the entry answers for
    again: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


E = TypeVar("E", bound=Upkeep)


class StoreIndexes(Generic[E]):
    """Per store, an entry ``E``; subclasses say how to make one and how to refresh it."""

    kind = "index"  # named in the log when a refresh fails
    fallback = "searches use the database meanwhile"  # what happens meanwhile, for that log line

    def __init__(self) -> None:
        self._entries: dict[str, E] = {}

    def _new_entry(self) -> E:
        raise NotImplementedError

    async def _refresh(self, store_id: str, entry: E) -> None:
        raise NotImplementedError

    def _may_refresh(self, entry: E) -> bool:
        return True

    def _entry(self, store_id: str) -> E:
        entry = self._entries.get(store_id)
        if entry is None:
            entry = self._entries[store_id] = self._new_entry()
        return entry

    def schedule(self, store_id: str) -> None:
        """Brings the store's index up to date in the background."""
        entry = self._entry(store_id)
        if not self._may_refresh(entry):
            return
        if entry.task is not None and not entry.task.done():
            entry.again = True
            return
        entry.task = asyncio.create_task(self._refresh_loop(store_id, entry), name=f"refresh-{store_id}")

    async def refresh(self, store_id: str) -> None:
        """Brings the store's index up to date now (tests, the benchmark)."""
        entry = self._entry(store_id)
        async with entry.lock:
            await self._refresh(store_id, entry)

    async def _refresh_loop(self, store_id: str, entry: E) -> None:
        try:
            while True:
                entry.again = False
                async with entry.lock:
                    await self._refresh(store_id, entry)
                if not entry.again:
                    return
        except Exception:
            log.exception("refreshing the %s of %s failed; %s", self.kind, store_id, self.fallback)
