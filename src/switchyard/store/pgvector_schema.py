"""pgvector on PostgreSQL, where the server has the extension: set up at start, not by
a migration, since it exists only where the extension does (installing it later and
restarting turns it on).

``setup`` (under an advisory lock, so processes starting together take turns) creates
the extension if it is available and this role may, adds the ``vector`` column
``vector_store_chunks.embedding_vector`` (no fixed dimension: each store keeps its
model's) and fills it from the stored float32 bytes. HNSW needs a fixed dimension, so
each dimension in use gets its own partial expression index, made the first time
chunks of that dimension are written (``ensure_hnsw``)::

    CREATE INDEX ix_vector_store_chunks_hnsw_384 ON vector_store_chunks
    USING hnsw ((embedding_vector::vector(384)) vector_cosine_ops)
    WITH (m = 32, ef_construction = 80)
    WHERE vector_dims(embedding_vector) = 384

A query uses it by ordering on the same expression under the same predicate
(``store/vector_store_nearest.py``). The graph is built denser than pgvector's default
(m 16, ef_construction 64), as the in-process graphs are (``retrieval/ann.py``): at 100k
chunks of the search benchmark's corpus, recall@10 at ``hnsw.ef_search`` 100 rose from
0.93 to 0.99. An index made by an earlier version keeps its parameters: after
``DROP INDEX ix_vector_store_chunks_hnsw_<d>``, a restart makes it again with these."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pgvector import Vector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchyard.store.vector_store_models import HNSW_INDEX_PREFIX, VECTOR_COLUMN

log = logging.getLogger(__name__)

SETUP_LOCK = 0x7067_7665_6374_6F72  # any fixed 64-bit number
BACKFILL_BATCH = 2000
HNSW_SINCE = (0, 5, 0)
HNSW_WITH = "m = 32, ef_construction = 80"
ITERATIVE_SCAN_SINCE = (0, 8, 0)  # hnsw.iterative_scan: filtered queries keep scanning until they have k rows


@dataclass
class PgVector:
    """The extension as found in this database, and the HNSW indexes known to exist."""

    version: tuple[int, ...]
    indexed_dims: set[int] = field(default_factory=set)

    @property
    def hnsw(self) -> bool:
        return self.version >= HNSW_SINCE

    @property
    def iterative_scan(self) -> bool:
        return self.version >= ITERATIVE_SCAN_SINCE


def vector_text(vector: bytes | npt.NDArray[np.float32]) -> str:
    """pgvector's text form, ``[x,y,...]``, of a vector or its stored float32 bytes."""
    array = np.frombuffer(vector, dtype="<f4") if isinstance(vector, bytes) else vector
    return Vector(np.asarray(array, dtype=np.float32)).to_text()


def hnsw_index_name(dims: int) -> str:
    return f"{HNSW_INDEX_PREFIX}{int(dims)}"


async def _version(conn: AsyncConnection) -> tuple[int, ...] | None:
    found = await conn.scalar(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))
    if found is None:
        return None
    return tuple(int(part) for part in str(found).split(".") if part.isdigit())


async def _create_extension(conn: AsyncConnection) -> bool:
    if not await conn.scalar(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")):
        return False
    try:
        async with conn.begin_nested():
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except DBAPIError as exc:  # e.g. this role may not create extensions
        log.warning("pgvector is installed but could not be enabled (%s); vector search stays exact", exc)
        return False
    return True


async def _backfill(conn: AsyncConnection) -> int:
    """Fills ``embedding_vector`` from ``embedding`` for rows that lack it; rows done."""
    done, after = 0, 0
    while True:
        rows = (await conn.execute(text(
            f"SELECT id, embedding FROM vector_store_chunks WHERE {VECTOR_COLUMN} IS NULL AND id > :after"
            " ORDER BY id LIMIT :n"), {"after": after, "n": BACKFILL_BATCH})).all()
        if not rows:
            return done
        params = [{"id": id, "v": vector_text(bytes(blob))} for id, blob in rows]
        await conn.execute(text(f"UPDATE vector_store_chunks SET {VECTOR_COLUMN} = CAST(:v AS vector)"
                                " WHERE id = :id"), params)
        done += len(rows)
        after = rows[-1][0]


async def setup(engine: AsyncEngine) -> PgVector | None:
    """Turns pgvector on where the server can (see the module doc); None where it cannot."""
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK})
        version = await _version(conn)
        if version is None:
            if not await _create_extension(conn):
                return None
            version = await _version(conn)
            if version is None:
                return None
        has_column = await conn.scalar(text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            f" AND table_name = 'vector_store_chunks' AND column_name = '{VECTOR_COLUMN}'"))
        dims: list[int] = []
        if not has_column:
            await conn.execute(text(f"ALTER TABLE vector_store_chunks ADD COLUMN {VECTOR_COLUMN} vector"))
            if await _backfill(conn):
                dims = [int(d) for d in await conn.scalars(text(
                    f"SELECT DISTINCT vector_dims({VECTOR_COLUMN}) FROM vector_store_chunks"))]
                log.info("pgvector: stored chunk vectors copied into %s (dimensions %s)", VECTOR_COLUMN, dims)
    state = PgVector(version)
    for dim in dims:
        await ensure_hnsw(engine, state, dim)
    return state


async def ensure_hnsw(engine: AsyncEngine, state: PgVector, dims: int) -> None:
    """Makes the HNSW index for ``dims`` if it does not exist yet (once per process)."""
    if not state.hnsw or dims in state.indexed_dims:
        return
    async with engine.connect() as conn, conn.begin():
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK})
        await conn.execute(text(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(dims)} ON vector_store_chunks"
            f" USING hnsw (({VECTOR_COLUMN}::vector({int(dims)})) vector_cosine_ops) WITH ({HNSW_WITH})"
            f" WHERE vector_dims({VECTOR_COLUMN}) = {int(dims)}"))
    state.indexed_dims.add(dims)
