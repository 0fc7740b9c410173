"""Cursor pagination with both ``after`` and ``before``, as OpenAI's list endpoints
take them: rows ordered by a key of columns (a time or position, then the id), one
row more than ``limit`` read to tell whether more follow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

Order = Literal["asc", "desc"]


async def cursor_page(session: AsyncSession, model: Any, key: Sequence[Any], where: list[ColumnElement[bool]], *,
                      cursor_where: Callable[[str], ColumnElement[bool]], limit: int, order: Order,
                      after: str | None = None, before: str | None = None) -> tuple[list[Any], bool]:
    """Rows of ``model`` matching ``where``, in ``order`` of ``key``, after and/or before
    the row that ``cursor_where(id)`` finds. A cursor id that finds no row gives
    ``([], False)``: another owner's id reads as unknown.

    With ``before`` alone the page is the previous page: the ``limit`` rows nearest the
    cursor (still in ``order``), and ``has_more`` tells whether rows precede them."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
    conditions = list(where)
    ordered = tuple_(*key)
    for cursor_id, forward in ((after, True), (before, False)):
        if cursor_id is None:
            continue
        cursor = (await session.execute(select(*key).where(cursor_where(cursor_id)))).one_or_none()
        if cursor is None:
            return [], False
        greater = (order == "asc") == forward
        conditions.append(ordered > tuple_(*cursor) if greater else ordered < tuple_(*cursor))
    backwards = before is not None and after is None
    ascending = (order == "asc") != backwards
    ordering = [column.asc() if ascending else column.desc() for column in key]
    rows = list(await session.scalars(select(model).where(*conditions).order_by(*ordering).limit(limit + 1)))
    page = rows[:limit]
    return (page[::-1] if backwards else page), len(rows) > limit
