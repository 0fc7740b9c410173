"""Writing chunk rows: plain ORM inserts, plus the pgvector column where it exists
(outside the ORM: see ``store/pgvector_schema.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import ColumnElement, Text, bindparam, cast, column, insert, literal_column, table
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.store.pgvector_schema import PgVector, vector_text
from switchyard.store.vector_store_models import VECTOR_COLUMN, VectorStoreChunk

BATCH = 1000


def vector_value(param: str, dims: int | None = None) -> ColumnElement[Any]:
    """A bound pgvector value: sent as pgvector's text form (``[x,y,...]``) and cast on
    the server, so no driver codec is needed."""
    return cast(cast(bindparam(param, type_=Text), Text), VECTOR(dims))


def vector_column(dims: int) -> ColumnElement[Any]:
    """``embedding_vector::vector(dims)``: the expression the HNSW index of ``dims`` is on."""
    return cast(literal_column(f"{VectorStoreChunk.__tablename__}.{VECTOR_COLUMN}"), VECTOR(dims))


# The chunk table with the pgvector column the ORM does not know of.
_WITH_VECTOR = table(
    VectorStoreChunk.__tablename__,
    *(column(c.name, c.type) for c in VectorStoreChunk.__table__.columns if c.name != "id"),
    column(VECTOR_COLUMN, VECTOR()),
)


async def insert_chunks(session: AsyncSession, pgvector: PgVector | None, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts chunk rows (the ORM columns), with their pgvector value when ``pgvector``."""
    statement: Any = insert(VectorStoreChunk)
    if pgvector is not None:
        statement = insert(_WITH_VECTOR).values({VECTOR_COLUMN: vector_value("vector_text")})
        rows = [{**row, "vector_text": vector_text(row["embedding"])} for row in rows]
    for start in range(0, len(rows), BATCH):
        await session.execute(statement, list(rows[start:start + BATCH]))
