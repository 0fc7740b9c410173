"""Hybrid search over vector stores: for each query, the best chunks by vector
similarity and by full-text match, both restricted by the attribute filters inside
their queries, fused by weighted reciprocal-rank fusion (``ranking.fuse``), then the
score threshold, the per-file cap and ``max_num_results``.

Full-text match: a large store's tantivy index (BM25, ``retrieval/text_index.py``; on
PostgreSQL each process keeps its own replica, caught up from the store's version),
and in SQL for small stores and while an index catches up: FTS5's ``bm25`` on SQLite,
``ts_rank_cd`` on PostgreSQL (with pgvector, in the vector statement).

Vector similarity, by what the database offers:

- PostgreSQL with pgvector: an HNSW index scan in SQL (``store/vector_store_nearest.py``).
- Otherwise (SQLite, the embedded default; PostgreSQL without the extension): a large
  store's HNSW graph in process (``retrieval/ann.py``), and exact scoring (numpy over
  the cached store matrix, ``retrieval/vectors.py``) for small stores, for selective
  filters and while a graph catches up.

Every cache and graph is checked against the store's version in the database, read
by each search: a change made by another process is seen by the next search.

``ranker: "none"`` skips fusion: chunks in vector-similarity order, scored by their
cosine similarity clipped to 0..1."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.providers.base import Embedder
from switchyard.retrieval.ann import EXACT_FILTER_ROWS, MIN_CHUNKS, AnnIndexes
from switchyard.retrieval.filters import parse_filters
from switchyard.retrieval.ranking import RankingOptions, fuse, keywords, parse_ranking_options, search_queries
from switchyard.retrieval.text_index import TextIndexes
from switchyard.retrieval.vectors import DEFAULT_CACHE_BYTES, FloatMatrix, IdArray, VectorCache, normalised
from switchyard.store.database import Database
from switchyard.store.vector_store_chunks import TEXT_BUDGET, AttributeFilter, ChunkIndex, ChunkRecord
from switchyard.store.vector_store_nearest import NearestChunks
from switchyard.store.vector_stores import VectorStoreRecord, VectorStoreRepository

EmbedderFor = Callable[[VectorStoreRecord], Embedder]
MAX_RESULTS = 50
CANDIDATES = 50  # per ranked list fed to the fusion
TOUCH_EVERY = 60  # seconds: a search marks its stores active (a write) at most this often
FILTERS_KEPT = 64  # filters whose matching files a process keeps (per stores and their versions)
FILES_KEPT = 100_000  # matching files above which a filter's are not kept
STORES_SEEN = 4096  # store records a process keeps, to search while it reads them again


@dataclass(frozen=True, slots=True)
class SearchHit:
    file_id: str
    filename: str
    score: float  # 0..1
    attributes: dict[str, Any]
    content: list[dict[str, str]]  # [{"type": "text", "text": ...}]
    chunk_index: int
    vector_store_id: str = ""
    chunk_id: int = 0

    def to_wire(self) -> dict[str, Any]:
        """The OpenAI ``vector_store.search_result`` shape."""
        return {"file_id": self.file_id, "filename": self.filename, "score": self.score,
                "attributes": self.attributes, "content": self.content}


@dataclass
class _Lists:
    vector: list[tuple[list[int], float]] = field(default_factory=list)
    cosine: dict[int, float] = field(default_factory=dict)
    text: list[list[int]] | None = None  # the full-text lists, when fetched with the vector lists


def _max_results(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS:
        raise invalid(f"'max_num_results' must be an integer between 1 and {MAX_RESULTS}.", "max_num_results")
    return value


def _basis(store: VectorStoreRecord) -> tuple[str, int, str | None]:
    """What a search's lists are made from, of a store."""
    return store.id, store.version, store.embedding_model


def _hit(chunk: ChunkRecord, score: float) -> SearchHit:
    return SearchHit(
        file_id=chunk.file_id, filename=chunk.filename, score=round(score, 6), attributes=chunk.attributes,
        content=[{"type": "text", "text": chunk.text}], chunk_index=chunk.chunk_index,
        vector_store_id=chunk.vector_store_id, chunk_id=chunk.id,
    )


class VectorStoreSearch:
    """Search for the surfaces and the file_search tool; one per process (it holds the
    vector cache)."""

    def __init__(self, db: Database, embedder_for: EmbedderFor, *, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 candidates: int = CANDIDATES, index_dir: Path | None = None, ann_min_chunks: int = MIN_CHUNKS,
                 ann: bool = True, exact_filter_rows: int = EXACT_FILTER_ROWS,
                 text_budget: int | None = TEXT_BUDGET, text_index: bool = True) -> None:
        self.db = db
        self.stores = VectorStoreRepository(db)
        self.index = ChunkIndex(db)
        self.cache = VectorCache(self.index, cache_bytes)
        self.nearest = NearestChunks(db)
        self.ann = AnnIndexes(self.index, index_dir, min_chunks=ann_min_chunks,
                              exact_filter_rows=exact_filter_rows) if ann else None
        self.embedder_for = embedder_for
        self.candidates = candidates
        self.text_budget = text_budget  # None: every full-text match ranked (ChunkIndex.text_search)
        # full-text of large stores (text_index.py); smaller ones in SQL
        self.text = TextIndexes(self.index, None if index_dir is None else index_dir / "text",
                                min_chunks=ann_min_chunks) if text_index else None
        self._seen: OrderedDict[tuple[str, str], VectorStoreRecord] = OrderedDict()  # by (owner, store id)
        self._files: OrderedDict[tuple[tuple[tuple[str, int], ...], AttributeFilter], dict[str, set[str]]] = (
            OrderedDict())

    @property
    def backend(self) -> str:
        """Where vector similarity is computed: ``pgvector``, ``hnsw`` or ``exact``."""
        if self.db.pgvector is not None:
            return "pgvector"
        return "hnsw" if self.ann is not None else "exact"

    def stores_changed(self, store_id: str) -> None:
        """A store's chunks changed in this process (the ingester says so): its graph
        and full-text index catch up now rather than at the next search."""
        if self.ann is not None and self.db.pgvector is None:
            self.ann.schedule(store_id)
        if self.text is not None:
            self.text.schedule(store_id)

    async def _owned_stores(self, ids: Sequence[str], owner_id: str) -> list[VectorStoreRecord]:
        if isinstance(ids, str) or not ids:
            raise invalid("'vector_store_ids' must be a non-empty array of vector store ids.", "vector_store_ids")
        found = await self.stores.get_many(ids, owner_id, file_counts=False)
        stores = []
        for id in dict.fromkeys(ids):
            store = found.get(id)
            if store is None:
                raise SwitchyardError(ErrorKind.NOT_FOUND, f"No vector store found with id '{id}'.",
                                      param="vector_store_ids")
            if store.status == "expired":
                raise invalid(f"Vector store '{id}' has expired.", "vector_store_ids")
            stores.append(store)
        return stores

    async def _matching_files(self, stores: list[VectorStoreRecord], filters: AttributeFilter
                              ) -> dict[str, set[str]]:
        """Per store, the files whose attributes pass ``filters`` (``ChunkIndex.matching_files``):
        read once per filter and stores' versions, since a store's version changes with its
        files' attributes as with its chunks."""
        key = (tuple((store.id, store.version) for store in stores), filters)
        found = self._files.get(key)
        if found is not None:
            self._files.move_to_end(key)
            return found
        found = await self.index.matching_files([store.id for store in stores], filters)
        if sum(len(files) for files in found.values()) <= FILES_KEPT:
            self._files[key] = found
            while len(self._files) > FILTERS_KEPT:
                self._files.popitem(last=False)
        return found

    async def _in_process(self, store: VectorStoreRecord, vectors: FloatMatrix, k: int,
                          filters: AttributeFilter | None, files: dict[str, set[str]] | None
                          ) -> list[list[tuple[int, float]]]:
        """One store's best chunks per query vector: its graph's, else exact. With a
        filter, the graph takes the chunks of the matching ``files``; exact scoring
        reads the matching chunk ids from SQL."""
        found: list[list[tuple[int, float]] | None] = [None] * len(vectors)
        allowed: IdArray | None = None
        graph = self.ann.ready(store.id, store.version) if self.ann is not None else None
        if self.ann is not None and graph is not None:
            subset = None if files is None else graph.in_files(files[store.id])
            allowed = None if subset is None else subset.ids
            found = [self.ann.top(graph, vector, k, subset) for vector in vectors]
        if all(hits is not None for hits in found):
            return [hits or [] for hits in found]
        matrix = await self.cache.get(store.id, store.version)
        if matrix.matrix.shape[1:] not in ((vectors.shape[1],), (0,)):
            raise SwitchyardError(ErrorKind.SERVER, f"Vector store '{store.id}' holds vectors of another"
                                  " embedding model than the one configured for it now.")
        if filters is not None and (allowed is None or graph is None or matrix.version != graph.version):
            allowed = np.sort(np.asarray(await self.index.matching_ids([store.id], filters), np.int64))
        return [hits if hits is not None else matrix.top(vector, k, allowed)
                for hits, vector in zip(found, vectors, strict=True)]

    async def _vector_lists(self, stores: list[VectorStoreRecord], queries: list[str],
                            filters: AttributeFilter | None, k: int, words: list[list[str]] | None = None,
                            files: dict[str, set[str]] | None = None) -> _Lists:
        """The vector lists; on pgvector, the full-text lists of ``words`` too, in the
        same statement. ``files``: per store, the files that pass ``filters`` (graphs)."""
        pgvector = self.db.pgvector is not None
        text_lists: list[list[int]] | None = None
        groups: dict[int, tuple[Embedder, list[VectorStoreRecord]]] = {}
        for store in stores:
            embedder = self.embedder_for(store)
            groups.setdefault(id(embedder), (embedder, []))[1].append(store)
        per_query: list[list[tuple[int, float]]] = [[] for _ in queries]
        for embedder, members in groups.values():
            vectors = normalised((await embedder.embed(queries)).vectors)
            if pgvector:
                member_ids = [store.id for store in members]
                if words is not None and text_lists is None:
                    found, matches = await self.nearest.hybrid(
                        member_ids if len(groups) == 1 else [store.id for store in stores], vectors, words, k,
                        filters, self.text_budget)
                    text_lists = [[id for id, _ in hits] for hits in matches]
                    if len(groups) > 1:  # the vector part of the other stores' embedder: again, below
                        found = await self.nearest.search(member_ids, vectors, k, filters)
                else:
                    found = await self.nearest.search(member_ids, vectors, k, filters)
                for i, hits in enumerate(found):
                    per_query[i] += hits
                continue
            for store in members:
                for i, hits in enumerate(await self._in_process(store, vectors, k, filters, files)):
                    per_query[i] += hits
        lists = _Lists(text=text_lists)
        for hits in per_query:
            hits.sort(key=lambda pair: pair[1], reverse=True)
            lists.vector.append(([chunk_id for chunk_id, _ in hits[:k]], 1.0))
            for chunk_id, cosine in hits:
                lists.cosine[chunk_id] = max(cosine, lists.cosine.get(chunk_id, -1.0))
        return lists

    async def search(
        self,
        vector_store_ids: Sequence[str],
        owner_id: str,
        query: str | Sequence[str],
        *,
        max_num_results: int = 10,
        filters: dict[str, Any] | AttributeFilter | None = None,
        ranking_options: dict[str, Any] | RankingOptions | None = None,
        rewrite_query: bool = False,
        max_chunks_per_file: int | None = None,
    ) -> list[SearchHit]:
        """The best chunks for ``query`` across the owner's stores, best first. Raises
        ``SwitchyardError``: 404 for a store the owner does not have, 400 naming the
        field for bad parameters or an expired store. Marks the stores active."""
        limit = _max_results(max_num_results)
        parsed_filters = filters if not isinstance(filters, dict) else parse_filters(filters)
        options = ranking_options if isinstance(ranking_options, RankingOptions) else (
            parse_ranking_options(ranking_options))
        queries = search_queries(query, rewrite_query)
        k = max(self.candidates, limit * (3 if max_chunks_per_file else 1))
        stores, lists = await self._owned_lists(vector_store_ids, owner_id, queries, parsed_filters, k,
                                                options.ranker != "none")
        if options.ranker == "none":
            ranked = sorted(((id, max(0.0, min(1.0, c))) for id, c in lists.cosine.items()),
                            key=lambda pair: pair[1], reverse=True)
        else:
            ranked = fuse([(ids, options.embedding_weight) for ids, _ in lists.vector]
                          + [(ids, options.text_weight) for ids in lists.text or []])
        ranked = [(id, score) for id, score in ranked if score >= options.score_threshold and score > 0]
        hits = await self._hits(ranked, limit, max_chunks_per_file)
        now = time.time()
        stale = [store.id for store in stores if now - store.last_active_at >= TOUCH_EVERY]
        if stale:
            await self.stores.touch(stale, owner_id, now=now)
        return hits

    async def _owned_lists(self, ids: Sequence[str], owner_id: str, queries: list[str], filters: AttributeFilter | None,
                           k: int, text: bool) -> tuple[list[VectorStoreRecord], _Lists]:
        """The owner's stores, read now, and the search's lists. On PostgreSQL, when this process
        has read these stores for the owner before, the lists are made from those records while the
        stores are read again (the read is off the way): if a store's version or model has
        moved since, the lists are made again (so is an error raised meanwhile); if the owner
        has no such store (any more), that error is raised and the lists are dropped."""
        # not on SQLite: its reads cost no round trip, and an in-memory database has one connection
        seen = self._seen_stores(ids, owner_id) if self.db.dialect != "sqlite" else None
        if seen is None:
            stores = await self._owned_stores(ids, owner_id)
            lists = await self._lists(stores, queries, filters, k, text)
        else:
            reading = asyncio.ensure_future(self._owned_stores(ids, owner_id))
            failure: Exception | None = None
            try:
                lists = await self._lists(seen, queries, filters, k, text)
            except Exception as exc:  # the owner's error, if any, comes first
                failure = exc
            except BaseException:  # cancelled
                reading.cancel()
                raise
            stores = await reading
            if [_basis(store) for store in stores] != [_basis(store) for store in seen]:
                lists = await self._lists(stores, queries, filters, k, text)
            elif failure is not None:
                raise failure
        for store in stores:
            self._seen[owner_id, store.id] = store
            self._seen.move_to_end((owner_id, store.id))
        while len(self._seen) > STORES_SEEN:
            self._seen.popitem(last=False)
        return stores, lists

    def _seen_stores(self, ids: Sequence[str], owner_id: str) -> list[VectorStoreRecord] | None:
        if isinstance(ids, str) or not ids:
            return None
        seen = []
        for id in dict.fromkeys(ids):
            record = self._seen.get((owner_id, id))
            if record is None:
                return None
            seen.append(record)
        return seen

    async def _lists(self, stores: list[VectorStoreRecord], queries: list[str], filters: AttributeFilter | None,
                     k: int, text: bool) -> _Lists:
        """The vector lists of the queries, and their full-text lists if ``text``."""
        pgvector = self.db.pgvector is not None
        indexed = text and self.text is not None and all(
            self.text.ready(store.id, store.version) is not None for store in stores)
        if pgvector and indexed:  # PostgreSQL walks the vectors while tantivy (in a thread) reads the words
            lists, text_lists = await asyncio.gather(
                self._vector_lists(stores, queries, filters, k), self._indexed_text(stores, queries, filters, k))
            lists.text = text_lists
            return lists
        # on pgvector, the full-text lists come with the vector lists unless the indexes have them
        words = [keywords(query) for query in queries] if text and pgvector else None
        graphs = not pgvector and self.ann is not None
        files = None
        if filters is not None and (graphs or indexed):
            files = await self._matching_files(stores, filters)
        lists = await self._vector_lists(stores, queries, filters, k, words, files if graphs else None)
        if text and lists.text is None:
            lists.text = [await self._text_ids(stores, keywords(query), filters, files, k) for query in queries]
        return lists

    async def _indexed_text(self, stores: list[VectorStoreRecord], queries: list[str],
                            filters: AttributeFilter | None, k: int) -> list[list[int]]:
        """The full-text list of each query, from the stores' indexes (SQL if one went stale)."""
        files = None if filters is None else await self._matching_files(stores, filters)
        return [await self._text_ids(stores, keywords(text), filters, files, k) for text in queries]

    async def _text_ids(self, stores: list[VectorStoreRecord], words: list[str], filters: AttributeFilter | None,
                        files: dict[str, set[str]] | None, k: int) -> list[int]:
        """The full-text list: the stores' tantivy indexes when all are ready, else SQL."""
        if self.text is not None:
            hits = await self.text.top([(store.id, store.version) for store in stores], words, k, files)
            if hits is not None:
                return [id for id, _ in hits]
        return [id for id, _ in await self.index.text_search(
            [store.id for store in stores], words, filters=filters, limit=k, budget=self.text_budget)]

    async def _hits(self, ranked: list[tuple[int, float]], limit: int, per_file: int | None) -> list[SearchHit]:
        window = ranked[: limit * 4] if per_file else ranked[:limit]
        chunks = await self.index.chunks([id for id, _ in window])
        hits: list[SearchHit] = []
        taken: dict[tuple[str, str], int] = {}
        for id, score in window:
            chunk = chunks.get(id)
            if chunk is None:  # deleted since it was ranked
                continue
            key = (chunk.vector_store_id, chunk.file_id)
            if per_file is not None and taken.get(key, 0) >= per_file:
                continue
            taken[key] = taken.get(key, 0) + 1
            hits.append(_hit(chunk, score))
            if len(hits) == limit:
                break
        return hits
