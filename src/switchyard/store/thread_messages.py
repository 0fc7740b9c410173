"""The messages of an Assistants thread, in order, kept in their wire shape.

Appends allocate positions by first bumping the thread's ``next_position`` counter:
that one UPDATE locks the thread row (PostgreSQL) or takes the write lock (SQLite)
before anything is read, so concurrent appends queue up and never collide. Every
method takes the ``owner_id``; another owner's thread or message reads as missing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, update

from switchyard.store.assistants_models import Thread, ThreadMessage
from switchyard.store.cursor_pages import Order, cursor_page
from switchyard.store.database import Database


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    thread_id: str
    owner_id: str
    position: int
    run_id: str | None
    created_at: int
    body: dict[str, Any]  # the wire thread.message


def _record(row: ThreadMessage) -> MessageRecord:
    return MessageRecord(id=row.id, thread_id=row.thread_id, owner_id=row.owner_id, position=row.position,
                         run_id=row.run_id, created_at=row.created_at, body=dict(row.body))


def records(rows: list[ThreadMessage]) -> list[MessageRecord]:
    return [_record(row) for row in rows]


def message_rows(thread_id: str, owner_id: str, first: int, bodies: list[dict[str, Any]],
                 created_at: int) -> list[ThreadMessage]:
    """Rows for ``bodies`` at positions ``first``…; each body gets the thread's id and
    ``created_at`` (the id and ``run_id`` are the body's own)."""
    rows = []
    for offset, body in enumerate(bodies):
        stored = {**body, "thread_id": thread_id, "created_at": created_at}
        rows.append(ThreadMessage(id=stored["id"], thread_id=thread_id, owner_id=owner_id, position=first + offset,
                                  run_id=stored.get("run_id"), created_at=created_at, body=stored))
    return rows


def _where(thread_id: str, owner_id: str) -> list[Any]:
    return [ThreadMessage.thread_id == thread_id, ThreadMessage.owner_id == owner_id]


class MessageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, thread_id: str, owner_id: str, bodies: list[dict[str, Any]], *,
                     now: float | None = None) -> list[MessageRecord] | None:
        """Appends ``bodies`` (wire messages with new ids) after the thread's messages and
        returns them as stored; None if ``owner_id`` has no such thread."""
        moment = int(time.time() if now is None else now)
        reserve = (update(Thread).where(Thread.id == thread_id, Thread.owner_id == owner_id)
                   .values(next_position=Thread.next_position + len(bodies)).returning(Thread.next_position)
                   .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            end = await session.scalar(reserve)
            if end is None:
                return None
            rows = message_rows(thread_id, owner_id, end - len(bodies), bodies, moment)
            for row in rows:
                session.add(row)
        return records(rows)

    async def get(self, thread_id: str, message_id: str, owner_id: str) -> MessageRecord | None:
        query = select(ThreadMessage).where(ThreadMessage.id == message_id, *_where(thread_id, owner_id))
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def list(self, thread_id: str, owner_id: str, *, limit: int = 20, order: Order = "desc",
                   after: str | None = None, before: str | None = None,
                   run_id: str | None = None) -> tuple[list[MessageRecord], bool]:
        """A page of the thread's messages (by position; only ``run_id``'s when given)."""
        where = _where(thread_id, owner_id)
        if run_id is not None:
            where.append(ThreadMessage.run_id == run_id)
        async with self._db.session(read_only=True) as session:
            rows, more = await cursor_page(
                session, ThreadMessage, (ThreadMessage.position,), where,
                cursor_where=lambda id: and_(ThreadMessage.id == id, *_where(thread_id, owner_id)),
                limit=limit, order=order, after=after, before=before,
            )
            return records(rows), more

    async def all(self, thread_id: str, owner_id: str) -> list[MessageRecord]:
        """Every message of the thread, oldest first (``[]`` for an unknown thread)."""
        query = select(ThreadMessage).where(*_where(thread_id, owner_id)).order_by(ThreadMessage.position)
        async with self._db.session(read_only=True) as session:
            return records(list(await session.scalars(query)))

    async def replace(self, thread_id: str, message_id: str, owner_id: str,
                      body: dict[str, Any]) -> MessageRecord | None:
        """Stores ``body`` in place of the message's (its id, thread, creation time and
        ``run_id`` stay)."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(ThreadMessage).where(ThreadMessage.id == message_id, *_where(thread_id, owner_id)))
            if row is None:
                return None
            stored = {**body, "id": row.id, "thread_id": row.thread_id, "created_at": row.created_at,
                      "run_id": row.run_id}
            await session.execute(update(ThreadMessage).where(ThreadMessage.id == message_id).values(body=stored)
                                  .execution_options(synchronize_session=False))
            return MessageRecord(id=row.id, thread_id=row.thread_id, owner_id=row.owner_id, position=row.position,
                                 run_id=row.run_id, created_at=row.created_at, body=stored)

    async def delete(self, thread_id: str, message_id: str, owner_id: str) -> bool:
        statement = delete(ThreadMessage).where(ThreadMessage.id == message_id, *_where(thread_id, owner_id))
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
