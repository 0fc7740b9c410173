"""The organization's repositories (projects, keys, service accounts, users) read and change
their rows the same way: one row, by primary key or by a query, as a record (None when there
is none); the rows of a query as records; one row's columns changed and returned as a record;
a delete that says whether it removed anything. ``Rows`` is that, for one table and its record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import Delete, Select

from switchyard.store.database import Database

Row = TypeVar("Row")
Rec = TypeVar("Rec")


class Rows(Generic[Row, Rec]):
    def __init__(self, db: Database, table: type[Row], record: Callable[[Row], Rec]) -> None:
        self._db = db
        self._table = table
        self._record = record

    async def get(self, key: Any) -> Rec | None:
        """The row of this primary key (a tuple for a composite one)."""
        async with self._db.session(read_only=True) as session:
            row = await session.get(self._table, key)
            return None if row is None else self._record(row)

    async def first(self, query: Select[Any]) -> Rec | None:
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else self._record(row)

    async def all(self, query: Select[Any]) -> list[Rec]:
        async with self._db.session(read_only=True) as session:
            return [self._record(row) for row in await session.scalars(query)]

    async def change(self, where: Select[Any] | Any, columns: Mapping[str, Any]) -> Rec | None:
        """Sets ``columns`` on the row ``where`` finds (a query, or a primary key) and returns it;
        None when there is no such row."""
        async with self._db.session() as session:
            if isinstance(where, Select):
                row = await session.scalar(where)
            else:
                row = await session.get(self._table, where)
            if row is None:
                return None
            for column, value in columns.items():
                setattr(row, column, value)
            await session.flush()
            return self._record(row)

    async def delete(self, statement: Delete) -> bool:
        """True when the statement removed a row."""
        async with self._db.session() as session:
            result = await session.execute(statement)
            return bool(result.rowcount)  # type: ignore[attr-defined]
