"""Assistants threads: metadata, tool resources, and (in ``thread_messages.py``) an
ordered list of messages. Deleting a thread deletes its messages. Another owner's
thread reads as missing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from switchyard.store.assistants_models import Thread, ThreadMessage
from switchyard.store.database import Database
from switchyard.store.thread_messages import MessageRecord, message_rows, records
from switchyard.store.vector_store_records import UNSET


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    id: str
    owner_id: str
    created_at: int
    tool_resources: dict[str, Any]  # wire ``tool_resources`` ({} when none)
    metadata: dict[str, Any]


def _record(row: Thread) -> ThreadRecord:
    return ThreadRecord(id=row.id, owner_id=row.owner_id, created_at=row.created_at,
                        tool_resources=dict(row.tool_resources), metadata=dict(row.metadata_))


class ThreadRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, id: str, owner_id: str, *, tool_resources: dict[str, Any], metadata: dict[str, Any],
                     messages: list[dict[str, Any]], now: float | None = None
                     ) -> tuple[ThreadRecord, list[MessageRecord]]:
        """Thread ``id`` holding ``messages`` (wire bodies with their own ``id``s) in order,
        in one transaction. Each body's ``thread_id`` and ``created_at`` are set here."""
        moment = time.time() if now is None else now
        row = Thread(id=id, owner_id=owner_id, created_at=int(moment), created_us=int(moment * 1_000_000),
                     tool_resources=dict(tool_resources), metadata_=dict(metadata), next_position=len(messages))
        rows = message_rows(id, owner_id, 0, messages, int(moment))
        async with self._db.session() as session:
            session.add(row)
            await session.flush()
            for message in rows:
                session.add(message)
        return _record(row), records(rows)

    async def get(self, id: str, owner_id: str) -> ThreadRecord | None:
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(select(Thread).where(Thread.id == id, Thread.owner_id == owner_id))
            return None if row is None else _record(row)

    async def update(self, id: str, owner_id: str, *, tool_resources: dict[str, Any] = UNSET,
                     metadata: dict[str, Any] = UNSET) -> ThreadRecord | None:
        """Replaces the fields given."""
        values: dict[str, Any] = {}
        if tool_resources is not UNSET:
            values["tool_resources"] = dict(tool_resources)
        if metadata is not UNSET:
            values["metadata_"] = dict(metadata)
        if not values:
            return await self.get(id, owner_id)
        statement = (update(Thread).where(Thread.id == id, Thread.owner_id == owner_id).values(**values)
                     .returning(Thread).execution_options(synchronize_session=False))
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _record(row)

    async def claim_search_store(self, id: str, owner_id: str, store_id: str, stale: str | None) -> str | None:
        """Makes ``store_id`` the thread's file_search vector store unless another one (not
        ``stale``, the gone store it replaces) got there first; the thread's store after
        that, or None for no such thread. The thread row is locked while it decides, so of
        two messages racing to create the thread's store, one store wins."""
        async with self._db.session() as session:
            row = await session.scalar(select(Thread).where(Thread.id == id, Thread.owner_id == owner_id)
                                       .with_for_update())
            if row is None:
                return None
            current = list((row.tool_resources.get("file_search") or {}).get("vector_store_ids") or [])
            if current and current[0] != stale:
                return str(current[0])
            resources = {**row.tool_resources, "file_search": {"vector_store_ids": [store_id]}}
            await session.execute(update(Thread).where(Thread.id == id).values(tool_resources=resources)
                                  .execution_options(synchronize_session=False))
            return store_id

    async def delete(self, id: str, owner_id: str) -> bool:
        """Removes the thread and its messages."""
        statement = delete(Thread).where(Thread.id == id, Thread.owner_id == owner_id)
        async with self._db.session() as session:
            if not (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(delete(ThreadMessage).where(ThreadMessage.thread_id == id))
        return True
