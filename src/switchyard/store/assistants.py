"""Assistants, kept in their wire shape. Another owner's assistant reads as missing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.store.assistants_models import Assistant
from switchyard.store.cursor_pages import Order, cursor_page
from switchyard.store.database import Database


@dataclass(frozen=True, slots=True)
class AssistantRecord:
    id: str
    owner_id: str
    created_at: int
    body: dict[str, Any]  # the wire object (with "id" and "created_at"), plus "reasoning_effort"


def _record(row: Assistant) -> AssistantRecord:
    return AssistantRecord(id=row.id, owner_id=row.owner_id, created_at=row.created_at, body=dict(row.body))


class AssistantRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, id: str, owner_id: str, body: dict[str, Any], *,
                     now: float | None = None) -> AssistantRecord:
        """Stores ``body`` as assistant ``id``; its ``id`` and ``created_at`` are set here."""
        moment = time.time() if now is None else now
        stored = {"id": id, "object": "assistant", "created_at": int(moment), **body}
        stored["id"], stored["created_at"] = id, int(moment)
        row = Assistant(id=id, owner_id=owner_id, created_at=int(moment), created_us=int(moment * 1_000_000),
                        body=stored)
        async with self._db.session() as session:
            session.add(row)
        return _record(row)

    async def get(self, id: str, owner_id: str) -> AssistantRecord | None:
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(select(Assistant).where(Assistant.id == id, Assistant.owner_id == owner_id))
            return None if row is None else _record(row)

    async def list(self, owner_id: str, *, limit: int = 20, order: Order = "desc", after: str | None = None,
                   before: str | None = None) -> tuple[list[AssistantRecord], bool]:
        async with self._db.session(read_only=True) as session:
            rows, more = await _page(session, owner_id, limit, order, after, before)
            return [_record(row) for row in rows], more

    async def replace(self, id: str, owner_id: str, body: dict[str, Any]) -> AssistantRecord | None:
        """Stores ``body`` (keeping the id and creation time) in place of the assistant's."""
        async with self._db.session() as session:
            row = await session.scalar(select(Assistant).where(Assistant.id == id, Assistant.owner_id == owner_id))
            if row is None:
                return None
            stored = {**body, "id": row.id, "created_at": row.created_at}
            await session.execute(update(Assistant).where(Assistant.id == id).values(body=stored)
                                  .execution_options(synchronize_session=False))
            return AssistantRecord(id=row.id, owner_id=row.owner_id, created_at=row.created_at, body=stored)

    async def delete(self, id: str, owner_id: str) -> bool:
        statement = delete(Assistant).where(Assistant.id == id, Assistant.owner_id == owner_id)
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]


async def _page(session: AsyncSession, owner_id: str, limit: int, order: Order, after: str | None,
                before: str | None) -> tuple[list[Assistant], bool]:
    return await cursor_page(
        session, Assistant, (Assistant.created_us, Assistant.id), [Assistant.owner_id == owner_id],
        cursor_where=lambda id: and_(Assistant.id == id, Assistant.owner_id == owner_id),
        limit=limit, order=order, after=after, before=before,
    )
