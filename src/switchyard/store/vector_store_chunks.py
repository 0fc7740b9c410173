"""Reading vector store chunks for search: the vectors of a store, full-text
matches (SQLite FTS5 ``bm25`` / PostgreSQL ``ts_rank_cd``), and attribute filters
compiled into the SQL ``WHERE`` (``json_type``/``json_extract`` on SQLite,
``json_typeof``/``->>`` on PostgreSQL), so filtering happens in the query.

Callers check that the owner holds the stores (``VectorStoreRepository.get_many``)
before passing their ids here.

Filter semantics: a comparison with a string value matches string attributes, a
number matches numbers, a boolean matches booleans (no coercion between them);
``gt``/``gte``/``lt``/``lte`` order numbers numerically and strings by code point;
``ne`` and ``nin`` also match chunks that lack the key."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    bindparam,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.expression import Select

from switchyard.store.database import Database
from switchyard.store.vector_store_models import FTS_TABLE, VectorStore, VectorStoreChunk, VectorStoreFile

Scalar = str | float | int | bool
ComparisonType = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
_WORD = re.compile(r"\w+")
TEXT_BUDGET = 5_000  # full-text: the most chunks holding the query's words that one search ranks
DEEP_PROBE = 10  # the bounded query found too few: words over the budget counted up to this many budgets
_FTS = table(FTS_TABLE, column("rowid"))
# Built once: a search reads its hits with it, and building the statement cost as much as running it
_CHUNKS_BY_ID = (
    select(VectorStoreChunk.id, VectorStoreChunk.vector_store_id, VectorStoreChunk.file_id, VectorStoreFile.filename,
           VectorStoreChunk.chunk_index, VectorStoreChunk.text, VectorStoreChunk.tokens, VectorStoreChunk.attributes)
    .join(VectorStoreFile, and_(VectorStoreFile.vector_store_id == VectorStoreChunk.vector_store_id,
                                VectorStoreFile.file_id == VectorStoreChunk.file_id))
    .where(VectorStoreChunk.id.in_(bindparam("ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class Comparison:
    type: ComparisonType
    key: str
    value: Scalar | tuple[str | float | int, ...]  # a tuple for in / nin


@dataclass(frozen=True, slots=True)
class Compound:
    type: Literal["and", "or"]
    filters: tuple[Comparison | Compound, ...]


AttributeFilter = Comparison | Compound


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    id: int
    vector_store_id: str
    file_id: str
    filename: str
    chunk_index: int
    text: str
    tokens: int
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoreVectors:
    """A store's chunk ids and their embeddings (float32 little-endian bytes each),
    in chunk id order, as of ``version``."""

    vector_store_id: str
    version: int
    ids: list[int]
    embeddings: list[bytes]


@dataclass(frozen=True, slots=True)
class StoreChanges:
    """What an index of a store that holds it as of ``since`` needs to catch up to
    ``version``: every chunk id the store has now, and the chunks written after
    ``since`` (ids and float32 little-endian embeddings, in id order)."""

    vector_store_id: str
    version: int
    ids: list[int]
    added_ids: list[int]
    added: list[bytes]
    added_files: list[str]  # the file of each added chunk


@dataclass(frozen=True, slots=True)
class ChangedIds:
    """``StoreChanges`` without the chunks themselves: every chunk id the store has as of
    ``version``, and the ids of those written after ``since`` (``ChunkIndex.texts`` reads
    them in pages)."""

    vector_store_id: str
    version: int
    since: int
    ids: list[int]
    added_ids: list[int]


# -- filters -----------------------------------------------------------------

Typed = Callable[[str], tuple[ColumnElement[Any], ColumnElement[Any]]]  # key -> (json type, text value)
_SQLITE_TYPES = {str: ("text",), float: ("integer", "real"), bool: ("true", "false")}
_PG_TYPES = {str: ("string",), float: ("number",), bool: ("boolean",)}


def _sqlite_typed(column: ColumnElement[Any], key: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    path = literal('$."' + key + '"')
    return func.json_type(column, path), func.json_extract(column, path)


def _pg_typed(column: ColumnElement[Any], key: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    return func.json_typeof(column.op("->")(literal(key))), column.op("->>")(literal(key))


def _kind(value: Scalar) -> type:
    if isinstance(value, bool):
        return bool
    return float if isinstance(value, int | float) else str


def _compare(op: str, left: ColumnElement[Any], right: Any) -> ColumnElement[bool]:
    match op:
        case "eq":
            return left == right
        case "gt":
            return left > right
        case "gte":
            return left >= right
        case "lt":
            return left < right
        case _:
            return left <= right


def _positive(dialect: str, op: str, key: str, value: Scalar, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """``op`` (eq, gt, gte, lt, lte) against one value; never NULL (a missing key or a
    value of another type is false)."""
    jtype, text_value = (_sqlite_typed if dialect == "sqlite" else _pg_typed)(column, key)
    kind = _kind(value)
    types = (_SQLITE_TYPES if dialect == "sqlite" else _PG_TYPES)[kind]
    if kind is bool:
        if dialect == "sqlite":
            return func.coalesce(jtype == ("true" if value else "false"), false())
        matched = and_(jtype == "boolean", text_value == ("true" if value else "false"))
    elif kind is float:
        number = case((jtype.in_(types), text_value if dialect == "sqlite" else cast(text_value, Float)))
        matched = _compare(op, number, float(value))
    else:
        matched = and_(jtype == types[0], _compare(op, text_value, value))
    return case((matched, true()), else_=false())


def compile_filter(dialect: str, node: AttributeFilter,
                   column: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    """The ``WHERE`` clause for a validated filter over ``column`` (by default
    ``vector_store_chunks.attributes``; ``vector_store_files.attributes`` holds the same)."""
    attributes: ColumnElement[Any] = VectorStoreChunk.attributes if column is None else column  # type: ignore[assignment]
    if isinstance(node, Compound):
        parts = [compile_filter(dialect, child, attributes) for child in node.filters]
        return and_(true(), *parts) if node.type == "and" else or_(false(), *parts)
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if node.type in ("in", "nin", "eq", "ne"):
        found = or_(false(), *(_positive(dialect, "eq", node.key, value, attributes) for value in values))
        return not_(found) if node.type in ("ne", "nin") else found
    return _positive(dialect, node.type, node.key, values[0], attributes)


# -- full-text -----------------------------------------------------------------


def text_terms(terms: Sequence[str]) -> list[str]:
    """Plain words only: nothing from the query reaches the FTS query syntax."""
    return [word for term in terms for word in _WORD.findall(term)]


async def _sqlite_counts(session: AsyncSession, words: list[str], cap: int) -> list[int]:
    """How many chunks (of any store) hold each word, counted up to ``cap + 1``; one round trip."""
    probes = " UNION ALL ".join(
        f"SELECT {i}, (SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :w{i}"
        " LIMIT :cap))" for i in range(len(words)))
    params: dict[str, Any] = {f"w{i}": '"' + word + '"' for i, word in enumerate(words)}
    counts = {int(i): int(n) for i, n in await session.execute(text(probes), {**params, "cap": cap + 1})}
    return [counts[i] for i in range(len(words))]


def rarest(words: list[str], counts: list[int], budget: int) -> list[str]:
    """The rarest words whose chunks number at most ``budget`` together, in query
    order; empty when even the rarest is over it."""
    kept, total = set(), 0
    for i in sorted(range(len(words)), key=counts.__getitem__):
        if total + counts[i] > budget:
            break
        kept.add(i)
        total += counts[i]
    return [word for i, word in enumerate(words) if i in kept]


class PgWordCounts:
    """Estimated numbers of chunks holding each word on PostgreSQL, from the planner's
    statistics of the ``fts`` column (``pg_stats.most_common_elems``: the commonest
    lexemes and the fraction of rows holding each, kept by ``ANALYZE``, which
    autovacuum runs as the table grows), read at most once a minute; a word whose
    lexemes are not among the commonest counts as rare (0). Words' lexemes are cached."""

    STATS_SECONDS = 60.0

    def __init__(self) -> None:
        self._lexemes: dict[str, list[str]] = {}
        self._chunks: dict[str, float] = {}
        self._read_at = -1e9

    async def counts(self, session: AsyncSession | AsyncConnection, words: list[str]) -> list[int]:
        missing = [word for word in words if word not in self._lexemes]
        if missing:
            if len(self._lexemes) > 100_000:
                self._lexemes.clear()
            rows = await session.execute(text(
                "SELECT w, tsvector_to_array(to_tsvector('english', w)) FROM unnest(CAST(:words AS text[])) AS w"),
                {"words": missing})
            self._lexemes.update((str(word), list(lexemes or [])) for word, lexemes in rows)
        if time.monotonic() - self._read_at > self.STATS_SECONDS:
            rows = await session.execute(text(
                "SELECT e.lexeme, e.freq * greatest(c.reltuples, 0) FROM pg_stats s"
                " JOIN pg_class c ON c.oid = to_regclass('vector_store_chunks')"
                " CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs)"
                " AS e(lexeme, freq)"
                " WHERE s.schemaname = current_schema() AND s.tablename = 'vector_store_chunks'"
                " AND s.attname = 'fts' AND e.lexeme IS NOT NULL"))
            self._chunks = {str(lexeme): float(n) for lexeme, n in rows}
            self._read_at = time.monotonic()
        return [int(max((self._chunks.get(lexeme, 0.0) for lexeme in self._lexemes.get(word, [])), default=0.0))
                for word in words]


def _sqlite_text_query(terms: list[str], match: str = "") -> Select[Any]:
    match = match or " OR ".join('"' + term + '"' for term in terms)
    fts = literal_column(FTS_TABLE)
    score = (-func.bm25(fts)).label("score")
    return (
        select(VectorStoreChunk.id, score)
        .select_from(VectorStoreChunk)
        .join(_FTS, _FTS.c.rowid == VectorStoreChunk.id)
        .where(fts.op("MATCH")(literal(match)))
    )


def pg_text_query(terms: list[str], all_words: bool = False) -> Select[Any]:
    query = func.to_tsquery(literal_column("'english'"), literal((" & " if all_words else " | ").join(terms)))
    fts = literal_column("vector_store_chunks.fts")
    score = func.ts_rank_cd(fts, query).label("score")
    return select(VectorStoreChunk.id, score).where(fts.op("@@")(query))


async def _version_and_ids(session: AsyncSession, vector_store_id: str) -> tuple[int, list[int]] | None:
    """The store's version, then its chunk ids in order; None if the store is gone."""
    version = await session.scalar(select(VectorStore.version).where(VectorStore.id == vector_store_id))
    if version is None:
        return None
    ids = await session.scalars(select(VectorStoreChunk.id).where(
        VectorStoreChunk.vector_store_id == vector_store_id).order_by(VectorStoreChunk.id))
    return int(version), list(ids)


def _written(vector_store_id: str, since: int, version: int) -> list[ColumnElement[bool]]:
    """The store's chunks written in versions ``since`` < v <= ``version``."""
    c = VectorStoreChunk
    return [c.vector_store_id == vector_store_id, c.version > since, c.version <= version]


class ChunkIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _where(self, store_ids: Sequence[str], filters: AttributeFilter | None) -> list[ColumnElement[bool]]:
        where = [VectorStoreChunk.vector_store_id.in_(list(store_ids))]
        if filters is not None:
            where.append(compile_filter(self._db.dialect, filters))
        return where

    async def version(self, vector_store_id: str) -> int | None:
        async with self._db.session() as session:
            return await session.scalar(select(VectorStore.version).where(VectorStore.id == vector_store_id))

    async def vectors(self, vector_store_id: str) -> StoreVectors | None:
        """All of the store's vectors, with the version they are at (read first, so a
        concurrent change can only make the version look older, never newer)."""
        async with self._db.session(read_only=True) as session:
            version = await session.scalar(select(VectorStore.version).where(VectorStore.id == vector_store_id))
            if version is None:
                return None
            rows = (await session.execute(
                select(VectorStoreChunk.id, VectorStoreChunk.embedding)
                .where(VectorStoreChunk.vector_store_id == vector_store_id).order_by(VectorStoreChunk.id)
            )).all()
        return StoreVectors(vector_store_id, version, [row[0] for row in rows], [row[1] for row in rows])

    async def size(self, vector_store_id: str) -> tuple[int, int] | None:
        """``(version, number of chunks)`` of the store; None if it is gone."""
        async with self._db.session(read_only=True) as session:
            version = await session.scalar(select(VectorStore.version).where(VectorStore.id == vector_store_id))
            if version is None:
                return None
            count = await session.scalar(select(func.count()).select_from(VectorStoreChunk).where(
                VectorStoreChunk.vector_store_id == vector_store_id))
        return int(version), int(count or 0)

    async def changes(self, vector_store_id: str, since: int) -> StoreChanges | None:
        """The store's chunk ids and the chunks written in versions ``since`` < v <=
        the version read first (so a change committed meanwhile is left for next time);
        None if the store is gone."""
        async with self._db.session(read_only=True) as session:
            current = await _version_and_ids(session, vector_store_id)
            if current is None:
                return None
            version, ids = current
            c = VectorStoreChunk
            rows = (await session.execute(select(c.id, c.embedding, c.file_id).where(
                *_written(vector_store_id, since, version)).order_by(c.id))).all()
        return StoreChanges(vector_store_id, version, ids, [row[0] for row in rows], [row[1] for row in rows],
                            [row[2] for row in rows])

    async def changed_ids(self, vector_store_id: str, since: int) -> ChangedIds | None:
        """As ``changes``, ids only; None if the store is gone."""
        async with self._db.session(read_only=True) as session:
            current = await _version_and_ids(session, vector_store_id)
            if current is None:
                return None
            version, ids = current
            added = list(await session.scalars(select(VectorStoreChunk.id).where(
                *_written(vector_store_id, since, version)).order_by(VectorStoreChunk.id)))
        return ChangedIds(vector_store_id, version, since, ids, added)

    async def texts(self, changed: ChangedIds, first: int, last: int) -> list[tuple[int, str, str]]:
        """``(id, text, file id)`` of ``changed``'s added chunks with ids in ``first..last``,
        in id order (a chunk deleted since is left out). SQLite reads the id range itself
        (``NOT INDEXED``): the (store, version) index would be walked whole for each page."""
        hint = " NOT INDEXED" if self._db.dialect == "sqlite" else ""
        query = text(f"SELECT id, text, file_id FROM vector_store_chunks{hint} WHERE id BETWEEN :first AND :last"
                     " AND vector_store_id = :store AND version > :since AND version <= :version ORDER BY id")
        params = {"first": first, "last": last, "store": changed.vector_store_id, "since": changed.since,
                  "version": changed.version}
        async with self._db.session(read_only=True) as session:
            return [(int(id), str(text_), str(file_id)) for id, text_, file_id in await session.execute(query, params)]

    async def matching_ids(self, store_ids: Sequence[str], filters: AttributeFilter) -> list[int]:
        """Ids of the chunks of ``store_ids`` whose attributes pass ``filters``."""
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(select(VectorStoreChunk.id).where(*self._where(store_ids, filters))))

    async def matching_files(self, store_ids: Sequence[str], filters: AttributeFilter) -> dict[str, set[str]]:
        """Per store, the ids of the files whose attributes pass ``filters``: a chunk
        carries its file's attributes (``update_file_attributes`` changes both), so
        this selects the same chunks as ``matching_ids`` while reading one row per file."""
        query = select(VectorStoreFile.vector_store_id, VectorStoreFile.file_id).where(
            VectorStoreFile.vector_store_id.in_(list(store_ids)),
            compile_filter(self._db.dialect, filters, VectorStoreFile.attributes))  # type: ignore[arg-type]
        found: dict[str, set[str]] = {id: set() for id in store_ids}
        async with self._db.reading() as conn:
            for store_id, file_id in await conn.execute(query):
                found[store_id].add(file_id)
        return found

    async def text_search(self, store_ids: Sequence[str], terms: Sequence[str], *,
                          filters: AttributeFilter | None = None, limit: int = 50,
                          budget: int | None = TEXT_BUDGET) -> list[tuple[int, float]]:
        """The best full-text matches of any of ``terms`` (OR), best first, as
        ``(chunk id, score)``; the score is the backend's own (higher is better).

        ``budget`` bounds the work on large stores: ranking every chunk that holds a
        common word costs time in proportion to the corpus, so the query keeps its
        rarest words, while the chunks that hold them number at most ``budget``, and
        ranks those chunks by the query of every word; when even the
        rarest word is over the budget, chunks must hold all the words. If that finds
        too few (SQLite), the full query is ranked among the chunks holding those words
        and the next rarest one (counted further, up to ``DEEP_PROBE`` budgets), not over
        most of the store. Either way, fewer than ``limit`` matches means the full query
        runs instead. ``None``: always the full query (the exact reference)."""
        words = list(dict.fromkeys(text_terms(terms)))
        if not words:
            return []
        async with self._db.session(read_only=True) as session:
            if budget is not None and self._db.dialect == "sqlite":
                counts = await _sqlite_counts(session, words, budget)
                kept = rarest(words, counts, budget)
                if kept != words and (kept or len(words) > 1):
                    if kept:  # the chunks of the rare words, ranked by the query of every word
                        found = await self._text_rows(session, store_ids, words, filters, limit, anchors=kept)
                    else:
                        found = await self._text_rows(session, store_ids, words, filters, limit, all_words=True)
                    if len(found) >= limit:
                        return found
                    over = [word for word in words if word not in kept]
                    deeper = await _sqlite_counts(session, over, budget * DEEP_PROBE)
                    anchors = [*kept, over[min(range(len(over)), key=deeper.__getitem__)]]
                    found = await self._text_rows(session, store_ids, words, filters, limit, anchors=anchors)
                    if len(found) >= limit:
                        return found
            return await self._text_rows(session, store_ids, words, filters, limit)

    async def _text_rows(self, session: AsyncSession, store_ids: Sequence[str], words: list[str],
                         filters: AttributeFilter | None, limit: int, all_words: bool = False,
                         anchors: Sequence[str] = ()) -> list[tuple[int, float]]:
        """``anchors`` (SQLite): only chunks holding one of them, ranked by the query of all ``words``."""
        if all_words:
            base = _sqlite_text_query([], " AND ".join('"' + w + '"' for w in words))
        elif anchors:
            base = _sqlite_text_query([], "(" + " OR ".join('"' + w + '"' for w in anchors) + ") AND ("
                                      + " OR ".join('"' + w + '"' for w in words) + ")")
        else:
            base = _sqlite_text_query(words) if self._db.dialect == "sqlite" else pg_text_query(words)
        query = base.where(*self._where(store_ids, filters)).order_by(literal_column("score").desc()).limit(limit)
        return [(int(id), float(score)) for id, score in await session.execute(query)]

    async def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """The chunks with these ids (with their file's name), by id. Columns, not entities:
        neither the embeddings nor the ORM's bookkeeping are needed."""
        async with self._db.reading() as conn:
            return {row[0]: ChunkRecord(*row) for row in await conn.execute(_CHUNKS_BY_ID, {"ids": list(ids)})}

    async def file_chunks(self, vector_store_id: str, file_id: str, owner_id: str) -> list[ChunkRecord] | None:
        """A file's chunks in order (the file's ``content``); None if the owner has no
        such file in the store."""
        async with self._db.session() as session:
            filename = await session.scalar(select(VectorStoreFile.filename).where(
                VectorStoreFile.vector_store_id == vector_store_id, VectorStoreFile.file_id == file_id,
                VectorStoreFile.owner_id == owner_id))
            if filename is None:
                return None
            rows = await session.scalars(
                select(VectorStoreChunk)
                .where(VectorStoreChunk.vector_store_id == vector_store_id, VectorStoreChunk.file_id == file_id)
                .order_by(VectorStoreChunk.chunk_index)
            )
            return [_chunk(row, filename) for row in rows]


def _chunk(row: VectorStoreChunk, filename: str) -> ChunkRecord:
    return ChunkRecord(id=row.id, vector_store_id=row.vector_store_id, file_id=row.file_id, filename=filename,
                       chunk_index=row.chunk_index, text=row.text, tokens=row.tokens, attributes=row.attributes)
