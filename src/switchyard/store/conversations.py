"""Conversations: metadata and an ordered list of items in the Responses wire shape.

A deleted conversation is gone with its items (hard delete). Appends allocate
positions by first bumping the conversation's ``next_position`` counter: that one
UPDATE locks the row (PostgreSQL) or takes the write lock (SQLite) before anything
is read, so concurrent appends to one conversation queue up and never collide."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.item_pages import Order, item_page
from switchyard.store.responses_models import Conversation, ConversationItem


class DuplicateItemError(ValueError):
    """An item id that the conversation (or the same batch) already has."""

    def __init__(self, item_id: str) -> None:
        super().__init__(f"conversation already has an item with id {item_id!r}")
        self.item_id = item_id


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    owner_id: str
    created_at: int
    metadata: dict[str, Any]


def _record(row: Conversation) -> ConversationRecord:
    return ConversationRecord(id=row.id, owner_id=row.owner_id, created_at=row.created_at, metadata=row.metadata_)


def _owned(id: str, owner_id: str) -> ColumnElement[bool]:
    """For item queries: the conversation ``id`` belongs to ``owner_id``."""
    return ConversationItem.conversation_id.in_(
        select(Conversation.id).where(Conversation.id == id, Conversation.owner_id == owner_id)
    )


def _item_rows(id: str, first: int, items: list[dict[str, Any]], created_at: int) -> list[dict[str, Any]]:
    rows = []
    seen: set[str] = set()
    for offset, item in enumerate(items):
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"conversation item {offset} has no id")
        if item_id in seen:
            raise DuplicateItemError(item_id)
        seen.add(item_id)
        rows.append(
            {
                "conversation_id": id,
                "position": first + offset,
                "item_id": item_id,
                "item": item,
                "created_at": created_at,
            }
        )
    return rows


async def _insert_items(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(ConversationItem), rows)


class ConversationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        owner_id: str,
        metadata: dict[str, Any],
        items: list[dict[str, Any]],
        *,
        created_at: int | None = None,
    ) -> ConversationRecord:
        """A new ``conv_…`` conversation holding ``items`` (each with a distinct ``id``,
        else ``DuplicateItemError``) in order."""
        now = int(time.time()) if created_at is None else created_at
        row = Conversation(
            id=new_id("conv_"), owner_id=owner_id, created_at=now, metadata_=metadata, next_position=len(items)
        )
        rows = _item_rows(row.id, 0, items, now)
        async with self._db.session() as session:
            session.add(row)
            await session.flush()
            await _insert_items(session, rows)
        return _record(row)

    async def get(self, id: str, owner_id: str) -> ConversationRecord | None:
        query = select(Conversation).where(Conversation.id == id, Conversation.owner_id == owner_id)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def recent(self, owner_id: str, limit: int) -> list[ConversationRecord]:
        """``owner_id``'s newest conversations, newest first."""
        query = (select(Conversation).where(Conversation.owner_id == owner_id)
                 .order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(limit))
        async with self._db.session(read_only=True) as session:
            return [_record(row) for row in (await session.scalars(query)).all()]

    async def update(self, id: str, owner_id: str, metadata: dict[str, Any]) -> ConversationRecord | None:
        """Replaces the metadata."""
        statement = (
            update(Conversation)
            .where(Conversation.id == id, Conversation.owner_id == owner_id)
            .values(metadata_=metadata)
            .returning(Conversation)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _record(row)

    async def delete(self, id: str, owner_id: str) -> bool:
        statement = delete(Conversation).where(Conversation.id == id, Conversation.owner_id == owner_id)
        async with self._db.session() as session:
            if not (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(delete(ConversationItem).where(ConversationItem.conversation_id == id))
        return True

    async def append_items(
        self, id: str, owner_id: str, items: list[dict[str, Any]], *, created_at: int | None = None
    ) -> list[dict[str, Any]] | None:
        """Appends ``items`` (each with an ``id`` new to this conversation) after the
        existing ones and returns them as stored; None if ``owner_id`` has no such
        conversation. An id already in the conversation or repeated in ``items`` raises
        ``DuplicateItemError`` and nothing is appended."""
        now = int(time.time()) if created_at is None else created_at
        reserve = (
            update(Conversation)
            .where(Conversation.id == id, Conversation.owner_id == owner_id)
            .values(next_position=Conversation.next_position + len(items))
            .returning(Conversation.next_position)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            end = await session.scalar(reserve)
            if end is None:
                return None
            rows = _item_rows(id, end - len(items), items, now)
            if rows:
                existing = await session.scalar(
                    select(ConversationItem.item_id)
                    .where(
                        ConversationItem.conversation_id == id,
                        ConversationItem.item_id.in_([row["item_id"] for row in rows]),
                    )
                    .limit(1)
                )
                if existing is not None:
                    raise DuplicateItemError(existing)  # rolls back the reservation too
            await _insert_items(session, rows)
        return [row["item"] for row in rows]

    async def list_items(
        self, id: str, owner_id: str, *, after: str | None = None, limit: int = 20, order: Order = "desc"
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of items and whether more follow. An unknown conversation or
        ``after`` id gives ``([], False)``."""
        where = [ConversationItem.conversation_id == id, _owned(id, owner_id)]
        async with self._db.session(read_only=True) as session:
            return await item_page(
                session,
                position=ConversationItem.position,
                item_id=ConversationItem.item_id,
                item=ConversationItem.item,
                where=where,
                after=after,
                limit=limit,
                order=order,
            )

    async def get_item(self, id: str, item_id: str, owner_id: str) -> dict[str, Any] | None:
        query = select(ConversationItem.item).where(
            ConversationItem.conversation_id == id, ConversationItem.item_id == item_id, _owned(id, owner_id)
        )
        async with self._db.session(read_only=True) as session:
            return await session.scalar(query)

    async def delete_item(self, id: str, item_id: str, owner_id: str) -> bool:
        statement = delete(ConversationItem).where(
            ConversationItem.conversation_id == id, ConversationItem.item_id == item_id, _owned(id, owner_id)
        )
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def all_items(self, id: str, owner_id: str) -> list[dict[str, Any]]:
        """Every item, oldest first (for building model context); ``[]`` if unknown."""
        query = (
            select(ConversationItem.item)
            .where(ConversationItem.conversation_id == id, _owned(id, owner_id))
            .order_by(ConversationItem.position)
        )
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(query))

    async def items_by_id(self, item_ids: list[str], owner_id: str) -> dict[str, dict[str, Any]]:
        """The items with one of ``item_ids`` in any of ``owner_id``'s conversations, by id
        (the newest conversation's copy when several hold one)."""
        if not item_ids:
            return {}
        query = (
            select(ConversationItem.item_id, ConversationItem.item)
            .join(Conversation, Conversation.id == ConversationItem.conversation_id)
            .where(ConversationItem.item_id.in_(sorted(set(item_ids))), Conversation.owner_id == owner_id)
            .order_by(Conversation.created_at, Conversation.id)
        )
        async with self._db.session(read_only=True) as session:
            return {item_id: item for item_id, item in (await session.execute(query)).all()}
