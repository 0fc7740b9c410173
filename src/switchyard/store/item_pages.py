"""Cursor pagination over stored items, as OpenAI's list endpoints do it: ``after``
names an item id, ``order`` is by position, and one row more than ``limit`` is read
to tell whether more follow."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

Order = Literal["asc", "desc"]


async def item_page(
    session: AsyncSession,
    *,
    position: InstrumentedAttribute[int],
    item_id: InstrumentedAttribute[str],
    item: InstrumentedAttribute[dict[str, Any]],
    where: list[ColumnElement[bool]],
    after: str | None,
    limit: int,
    order: Order,
) -> tuple[list[dict[str, Any]], bool]:
    """``(items, has_more)`` of the rows matching ``where``. An ``after`` id that
    names no such row gives an empty page."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
    query = select(item).where(*where)
    if after is not None:
        cursor = await session.scalar(select(position).where(*where, item_id == after).order_by(position).limit(1))
        if cursor is None:
            return [], False
        query = query.where(position > cursor if order == "asc" else position < cursor)
    query = query.order_by(position.asc() if order == "asc" else position.desc()).limit(limit + 1)
    rows = list(await session.scalars(query))
    return rows[:limit], len(rows) > limit
