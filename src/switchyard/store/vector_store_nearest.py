"""The nearest chunks by cosine similarity on pgvector (PostgreSQL with the extension):
one SQL query per query vector, ordered by ``embedding_vector::vector(d) <=> q`` under
``vector_dims(embedding_vector) = d`` so that the HNSW index of dimension ``d`` serves
it, with the stores and the attribute filters in the same ``WHERE``.

Filters and HNSW: an index scan yields neighbours in distance order and the filter
drops those that do not match, so a selective filter could leave fewer than ``k``.
With pgvector >= 0.8 the scan is iterative (``hnsw.iterative_scan = relaxed_order``:
it keeps walking the graph, up to ``hnsw.max_scan_tuples``, until ``k`` rows pass, and
returns them in nearly distance order, sorted again here; at 1M chunks and a 10 % filter
it found more of the exact 50 nearest than ``strict_order``, 0.93 against 0.90, in less
time, 11.4 against 12.9 ms, see bench/README.md);
older versions over-fetch instead (a larger ``hnsw.ef_search``). Either way, a query
that still comes back with fewer than ``k`` rows is run again exactly (index scans
off: the planner reads the stores' matching rows and sorts them), so a filter never
loses results; it only costs an exact scan when the filter (or the store) is smaller
than ``k``, or too selective for the graph walk."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Float, Select, func, literal, literal_column, select, text, union_all

from switchyard.store.database import Database
from switchyard.store.pgvector_schema import vector_text
from switchyard.store.vector_store_chunks import (
    TEXT_BUDGET,
    AttributeFilter,
    ChunkIndex,
    PgWordCounts,
    compile_filter,
    pg_text_query,
    rarest,
    text_terms,
)
from switchyard.store.vector_store_inserts import vector_column, vector_value
from switchyard.store.vector_store_models import VECTOR_COLUMN, VectorStoreChunk

# candidates the graph walk keeps (pgvector's default is 40): at 1M chunks of the search benchmark,
# fused nDCG@10 unfiltered was 0.8815 / 0.8866 / 0.8977 at 100 / 150 / 200 against 0.8966 exact
# (bench/README.md, run 12); the filtered walk (iterative) kept its time and nDCG
EF_SEARCH = 200
OVERFETCH = 10  # without iterative scans, a filtered query walks with ef_search = k * this (at most 1000)
MAX_EF_SEARCH = 1000

Hits = list[tuple[int, float]]  # (chunk id, cosine), best first


@lru_cache(maxsize=256)  # building the statement costs more than its compiled-cache lookup
def _nearest_query(store_ids: tuple[str, ...], dims: int, filters: AttributeFilter | None, k: int,
                   param: str) -> Select[Any]:
    distance = vector_column(dims).op("<=>", return_type=Float)(vector_value(param, dims))
    dims_match = func.vector_dims(literal_column(f"vector_store_chunks.{VECTOR_COLUMN}")) == literal_column(
        str(int(dims)))
    where = [dims_match, VectorStoreChunk.vector_store_id.in_(list(store_ids))]
    if filters is not None:
        where.append(compile_filter("postgresql", filters))
    return select(VectorStoreChunk.id, distance.label("distance")).where(*where).order_by(distance).limit(k)


class NearestChunks:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._chunk_index = ChunkIndex(db)
        self.word_counts = PgWordCounts()
        # Extra settings for every query: the tests and the benchmark force the index
        # (enable_seqscan off) on stores small enough for the planner to prefer a scan.
        self.extra_settings: dict[str, str] = {}

    def _query(self, store_ids: Sequence[str], dims: int, filters: AttributeFilter | None, k: int,
               param: str = "q") -> Select[Any]:
        return _nearest_query(tuple(store_ids), dims, filters, k, param)

    def _settings(self, k: int, filtered: bool) -> dict[str, str]:
        # A custom plan for each query: the planner sees the query vector (a generic plan
        # would parse its text form once per row it sorts) and the stores' real sizes.
        settings = {"plan_cache_mode": "force_custom_plan"}
        state = self._db.pgvector
        ef = max(EF_SEARCH, k)
        if state is not None and state.iterative_scan:
            return {**settings, "hnsw.ef_search": str(ef), "hnsw.iterative_scan": "relaxed_order",
                    **self.extra_settings}
        if filtered:
            ef = min(MAX_EF_SEARCH, max(ef, k * OVERFETCH))
        return {**settings, "hnsw.ef_search": str(ef), **self.extra_settings}

    async def plan(self, store_ids: Sequence[str], dims: int, k: int, filters: AttributeFilter | None = None) -> str:
        """``EXPLAIN`` of the query for these stores, under the same settings."""
        query = self._query(store_ids, dims, filters, k).params(q=vector_text(np.ones(dims, np.float32)))
        sql = str(query.compile(dialect=self._db.engine.dialect, compile_kwargs={"literal_binds": True}))
        async with self._db.reading(self._settings(k, filters is not None)) as conn:
            return "\n".join(row[0] for row in await conn.execute(text("EXPLAIN " + sql.replace(":", "\\:"))))

    async def _run(self, query: Select[Any], vectors: npt.NDArray[np.float32],
                   settings: dict[str, str]) -> list[Hits]:
        found: list[Hits] = []
        async with self._db.reading(settings) as conn:
            for vector in vectors:
                rows = (await conn.execute(query, {"q": vector_text(vector)})).all()
                found.append([(int(id), 1.0 - float(distance))
                              for id, distance in sorted(rows, key=lambda row: float(row[1]))])
        return found

    async def hybrid(self, store_ids: Sequence[str], vectors: npt.NDArray[np.float32], word_lists: list[list[str]],
                     k: int, filters: AttributeFilter | None = None, budget: int | None = TEXT_BUDGET
                     ) -> tuple[list[Hits], list[Hits]]:
        """``search`` for the vectors and ``ChunkIndex.text_search`` for each list of
        words, in one statement: the ``k`` nearest chunks per vector and the ``k`` best
        full-text matches per word list, best first. ``budget`` as in ``text_search``
        (the words' counts estimated from the planner's statistics, ``PgWordCounts``)."""
        if not store_ids or (not len(vectors) and not word_lists):
            return [[] for _ in vectors], [[] for _ in word_lists]
        dims = vectors.shape[1]
        parts: list[Select[Any]] = []
        params: dict[str, str] = {}
        for i, vector in enumerate(vectors):
            part = self._query(store_ids, dims, filters, k, param=f"q{i}").subquery()
            parts.append(select(literal(i).label("list"), part.c.id, part.c.distance.label("score")))
            params[f"q{i}"] = vector_text(vector)
        where: list[ColumnElement[bool]] = [VectorStoreChunk.vector_store_id.in_(list(store_ids))]
        if filters is not None:
            where.append(compile_filter("postgresql", filters))
        found: list[Hits] = [[] for _ in range(len(vectors) + len(word_lists))]
        pruned: list[int] = []
        async with self._db.reading(self._settings(k, filters is not None)) as conn:
            for j, words in enumerate(word_lists):
                terms = list(dict.fromkeys(text_terms(words)))
                if not terms:
                    continue
                all_words = False
                if budget is not None:
                    kept = rarest(terms, await self.word_counts.counts(conn, terms), budget)
                    if kept != terms and (kept or len(terms) > 1):
                        pruned.append(j)
                        terms, all_words = kept or terms, not kept
                part = pg_text_query(terms, all_words).where(*where).order_by(
                    literal_column("score").desc()).limit(k).subquery()
                parts.append(select(literal(len(vectors) + j).label("list"), part.c.id, part.c.score))
            for list_, id, score in await conn.execute(union_all(*parts), params):
                found[list_].append((int(id), float(score)))
        nearest = [[(id, 1.0 - distance) for id, distance in sorted(hits, key=lambda pair: pair[1])]
                   for hits in found[: len(vectors)]]
        matches = [sorted(hits, key=lambda pair: pair[1], reverse=True) for hits in found[len(vectors):]]
        for j in pruned:
            if len(matches[j]) < k:  # the rarest words were not enough: the full query
                matches[j] = await self._chunk_index.text_search(store_ids, word_lists[j], filters=filters, limit=k,
                                                                 budget=None)
        short = [i for i, hits in enumerate(nearest) if len(hits) < k]
        if short:
            exact = await self.search(store_ids, vectors[short], k, filters, indexed=False)
            for i, hits in zip(short, exact, strict=True):
                nearest[i] = hits
        return nearest, matches

    async def search(self, store_ids: Sequence[str], vectors: npt.NDArray[np.float32], k: int,
                     filters: AttributeFilter | None = None, *, indexed: bool = True) -> list[Hits]:
        """For each (L2-normalised) query vector, the ``k`` nearest chunks of the
        stores that pass ``filters``, as ``(chunk id, cosine)`` best first."""
        if not len(vectors) or not store_ids:
            return [[] for _ in vectors]
        query = self._query(store_ids, vectors.shape[1], filters, k)
        found: list[Hits] = [[] for _ in vectors]
        if indexed:
            found = await self._run(query, vectors, self._settings(k, filters is not None))
        short = [i for i, hits in enumerate(found) if len(hits) < k]
        if short:
            exact = await self._run(query, vectors[short], {"plan_cache_mode": "force_custom_plan",
                                                             "enable_indexscan": "off"})
            for i, hits in zip(short, exact, strict=True):
                found[i] = hits
        return found
