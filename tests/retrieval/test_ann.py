"""The approximate vector paths against exact search, on a real corpus (the pydoc text
of standard-library modules) embedded by the embedded model: the in-process HNSW
graphs (SQLite, and PostgreSQL without pgvector) and pgvector's HNSW index.

Exact search is the same searcher with no graph (``ann=False``) or, on pgvector, with
index scans turned off; the approximate one is forced onto its index (graphs for any
store size; ``enable_seqscan = off`` on a table small enough for the planner to prefer
a scan), and each test checks that the index really answered."""

from __future__ import annotations

import importlib
import pydoc
from pathlib import Path
from typing import Any

import pytest

from switchyard.providers.base import Embeddings
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.retrieval import Ingester, VectorStoreSearch
from switchyard.retrieval.ann import AnnIndexes, Graph
from switchyard.store import Database
from switchyard.store.blobs import BlobStore
from switchyard.store.vector_store_chunks import ChunkIndex
from switchyard.store.vector_stores import NewFile, VectorStoreRepository
from tests.retrieval.conftest import upload

pytestmark = pytest.mark.slow

MODULES = ["json", "re", "heapq", "bisect", "shutil", "tarfile", "zipfile", "argparse", "datetime", "decimal",
           "difflib", "secrets", "timeit", "textwrap", "csv", "sqlite3", "gzip", "hashlib", "uuid", "statistics"]
CHARS = 3000
SMALL_CHUNKS = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
QUERIES = [
    "parse a JSON document into python objects", "find all matches of a regular expression",
    "priority queue with a binary heap", "insert into a sorted list keeping it sorted",
    "copy a directory tree", "read members of a tar archive", "compress files into a zip archive",
    "parse command line arguments", "difference between two dates", "exact decimal arithmetic and rounding",
    "compare two sequences of lines", "generate a secure random token", "time how long code takes",
    "wrap a paragraph of text to a width", "read rows from a comma separated file",
    "run SQL against an embedded database", "sha256 digest of bytes", "random unique identifier",
    "mean and standard deviation of data",
]
VECTOR_ONLY = {"ranker": "none"}
HNSW_384 = "ix_vector_store_chunks_hnsw_384"


class MemoEmbedder:
    """The real embedded model; each text is embedded once per session."""

    def __init__(self, inner: LocalEmbedder) -> None:
        self.inner = inner
        self.dimensions = inner.dimensions
        self.memo: dict[str, list[float]] = {}

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        missing = [text for text in dict.fromkeys(texts) if text not in self.memo]
        if missing:
            self.memo.update(zip(missing, (await self.inner.embed(missing)).vectors, strict=True))
        return Embeddings([self.memo[text] for text in texts], 0)

    async def aclose(self) -> None:
        return None


@pytest.fixture(scope="session")
def memo(embedder: LocalEmbedder) -> MemoEmbedder:
    return MemoEmbedder(embedder)


def corpus() -> dict[str, str]:
    return {f"{name}.txt": pydoc.render_doc(importlib.import_module(name), renderer=pydoc.plaintext)[:CHARS]
            for name in MODULES}


async def build(db: Database, blobs: BlobStore, embed: MemoEmbedder) -> tuple[str, dict[str, str]]:
    repo = VectorStoreRepository(db)
    store = await repo.create("alice")
    files = {}
    for i, (name, text) in enumerate(corpus().items()):
        file = await upload(db, blobs, "alice", name, text.encode())
        files[name] = file.id
        await repo.add_file(store.id, "alice", NewFile(file.id, name, SMALL_CHUNKS, {"module": name, "group": i % 3}))
    ingester = Ingester(db, blobs, lambda _: embed)
    while await ingester.run_once():
        pass
    return store.id, files


def searchers(db: Database, embed: MemoEmbedder, index_dir: Path) -> tuple[VectorStoreSearch, VectorStoreSearch]:
    """(exact, approximate) searchers over the same database."""
    exact = VectorStoreSearch(db, lambda _: embed, ann=False)
    exact.nearest.extra_settings = {"enable_indexscan": "off"}
    approximate = VectorStoreSearch(db, lambda _: embed, index_dir=index_dir, ann_min_chunks=0, exact_filter_rows=10)
    approximate.nearest.extra_settings = {"enable_seqscan": "off", "enable_bitmapscan": "off"}
    return exact, approximate


async def ids(search: VectorStoreSearch, store: str, query: str, **options: Any) -> list[int]:
    hits = await search.search([store], "alice", query, max_num_results=10, ranking_options=VECTOR_ONLY, **options)
    return [hit.chunk_id for hit in hits]


async def answered_by_index(db: Database, search: VectorStoreSearch, store: str, before: int,
                            filters: Any = None) -> bool:
    if db.pgvector is not None:
        from switchyard.retrieval.filters import parse_filters

        plan = await search.nearest.plan([store], 384, 50, parse_filters(filters) if filters else None)
        return HNSW_384 in plan
    assert search.ann is not None
    return search.ann.answered > before


async def compare(exact: VectorStoreSearch, approximate: VectorStoreSearch, store: str,
                  **options: Any) -> float:
    """Recall@10 of the approximate search against exact over QUERIES; the best hit must agree."""
    found = wanted = 0
    for query in QUERIES:
        want = await ids(exact, store, query, **options)
        got = await ids(approximate, store, query, **options)
        assert want and got[:1] == want[:1], (query, want, got)
        found += len(set(want) & set(got))
        wanted += len(want)
    return found / wanted


async def test_approximate_search_returns_the_exact_top_results(database: Database, blobs: BlobStore,
                                                                memo: MemoEmbedder, tmp_path: Path) -> None:
    store, _ = await build(database, blobs, memo)
    exact, approximate = searchers(database, memo, tmp_path / "index")
    if approximate.ann is not None and database.pgvector is None:
        await approximate.ann.refresh(store)
        graph = approximate.ann.graph(store)
        assert graph is not None and len(graph) > 100
    answered = approximate.ann.answered if approximate.ann else 0
    assert await compare(exact, approximate, store) >= 0.95
    assert await answered_by_index(database, approximate, store, answered)


async def test_filters_apply_inside_the_index(database: Database, blobs: BlobStore, memo: MemoEmbedder,
                                              tmp_path: Path) -> None:
    store, _ = await build(database, blobs, memo)
    exact, approximate = searchers(database, memo, tmp_path / "index")
    if approximate.ann is not None and database.pgvector is None:
        await approximate.ann.refresh(store)
    answered = approximate.ann.answered if approximate.ann else 0
    group = {"type": "eq", "key": "group", "value": 1}
    assert await compare(exact, approximate, store, filters=group) >= 0.95
    assert await answered_by_index(database, approximate, store, answered, group)
    members = {name for i, name in enumerate(corpus()) if i % 3 == 1}
    hits = await approximate.search([store], "alice", "parse a JSON document", max_num_results=20, filters=group)
    assert len(hits) == 20 and {hit.filename for hit in hits} <= members

    # a filter matching a handful of chunks: exact (in process) or the iterative scan, never fewer results
    one = {"type": "eq", "key": "module", "value": "json.txt"}
    want = await ids(exact, store, "regular expression", filters=one)
    assert len(want) >= 5  # every chunk of json.txt (up to 10)
    assert await ids(approximate, store, "regular expression", filters=one) == want


async def test_deleting_a_file_removes_its_vectors(database: Database, blobs: BlobStore, memo: MemoEmbedder,
                                                   tmp_path: Path) -> None:
    store, files = await build(database, blobs, memo)
    exact, approximate = searchers(database, memo, tmp_path / "index")
    repo = VectorStoreRepository(database)
    chunk_ids = {c.id for c in await ChunkIndex(database).file_chunks(store, files["json.txt"], "alice") or []}
    assert chunk_ids
    if database.pgvector is None and approximate.ann is not None:
        await approximate.ann.refresh(store)
    assert set(await ids(approximate, store, "parse a JSON document")) & chunk_ids

    assert await repo.delete_file(store, files["json.txt"], "alice")
    assert not set(await ids(approximate, store, "parse a JSON document")) & chunk_ids  # exact while behind
    if database.pgvector is None and approximate.ann is not None:
        await approximate.ann.refresh(store)
        graph = approximate.ann.graph(store)
        assert graph is not None
        assert not chunk_ids & set(graph.live.tolist()) and chunk_ids <= set(graph.dead.tolist())
    answered = approximate.ann.answered if approximate.ann else 0
    got = await ids(approximate, store, "parse a JSON document")
    assert got == await ids(exact, store, "parse a JSON document") and not set(got) & chunk_ids
    assert await answered_by_index(database, approximate, store, answered)

    if database.pgvector is None and approximate.ann is not None:  # most files gone: the graph is rebuilt
        for name in list(files)[1:12]:
            assert await repo.delete_file(store, files[name], "alice")
        await approximate.ann.refresh(store)
        graph = approximate.ann.graph(store)
        assert graph is not None and not len(graph.dead)
        assert await compare(exact, approximate, store) >= 0.95


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # pgvector keeps its index in PostgreSQL: nothing in process
async def test_graphs_persist_and_catch_up_incrementally(database: Database, blobs: BlobStore,
                                                         memo: MemoEmbedder, tmp_path: Path) -> None:
    store, _ = await build(database, blobs, memo)
    first = AnnIndexes(ChunkIndex(database), tmp_path / "index", min_chunks=0)
    await first.refresh(store)
    built = first.graph(store)
    assert built is not None and (tmp_path / "index" / f"{store}.npz").exists()

    again = AnnIndexes(ChunkIndex(database), tmp_path / "index", min_chunks=0)  # a restart
    await again.refresh(store)
    loaded = again.graph(store)
    assert loaded is not None and loaded.version == built.version
    assert loaded.live.tolist() == built.live.tolist() and loaded.index.ntotal == built.index.ntotal

    search = VectorStoreSearch(database, lambda _: memo, index_dir=tmp_path / "index", ann_min_chunks=0)
    ingester = Ingester(database, blobs, lambda _: memo, on_indexed=search.stores_changed)
    text = "The ornithopter flaps its membrane wings to hover above the dunes of Arrakis."
    file = await upload(database, blobs, "alice", "dune.txt", text.encode())
    await VectorStoreRepository(database).add_file(store, "alice", NewFile(file.id, "dune.txt", SMALL_CHUNKS))
    assert await ingester.run_once()
    assert search.ann is not None
    await search.ann.refresh(store)  # the ingester asked for it; wait for it
    graph = search.ann.graph(store)
    assert graph is not None and len(graph) == len(built) + 1 and graph.index.ntotal == built.index.ntotal + 1
    before = search.ann.answered
    hits = await search.search([store], "alice", "flying machine over sand dunes", ranking_options=VECTOR_ONLY)
    assert hits[0].filename == "dune.txt" and search.ann.answered == before + 1

    assert Graph.load(tmp_path / "index" / f"{store}.npz") is not None
    (tmp_path / "index" / f"{store}.npz").write_bytes(b"not an index")
    broken = AnnIndexes(ChunkIndex(database), tmp_path / "index", min_chunks=0)
    await broken.refresh(store)  # unreadable: rebuilt from the database
    rebuilt = broken.graph(store)
    assert rebuilt is not None and rebuilt.live.tolist() == graph.live.tolist()


def test_a_graph_keeps_a_filters_chunks_until_it_changes() -> None:
    """``in_files`` keeps the last filters' chunk sets; a change to the graph drops them, so
    a file's new chunks pass the same filter at once."""
    import numpy as np

    from switchyard.store.vector_store_chunks import StoreChanges

    rng = np.random.default_rng(7)

    def vectors(n: int) -> list[bytes]:
        matrix = rng.standard_normal((n, 8)).astype("<f4")
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        return [row.tobytes() for row in matrix]

    graph = Graph(8)
    assert graph.apply(StoreChanges("vs", 1, list(range(1, 7)), list(range(1, 7)), vectors(6),
                                    ["a", "b", "a", "c", "b", "a"]))
    first = graph.in_files({"a", "c"})
    assert first.ids.tolist() == [1, 3, 4, 6]
    assert np.unpackbits(first.bitmap, bitorder="little").nonzero()[0].tolist() == [1, 3, 4, 6]
    assert graph.in_files({"c", "a"}) is first  # the same set, kept
    oldest = graph.in_files({"x0"})
    for other in range(1, 8):  # seven more sets, "a"+"c" used again halfway: the least recently used goes
        graph.in_files({f"x{other}"})
        if other == 3:
            assert graph.in_files({"a", "c"}) is first
    assert graph.in_files({"a", "c"}) is first  # kept: used after x0
    assert graph.in_files({"x0"}) is not oldest  # dropped when the ninth set came
    hits = graph.top(np.frombuffer(vectors(1)[0], "<f4"), 3, first, exact_filter_rows=0)
    assert hits is not None and {id for id, _ in hits} <= {1, 3, 4, 6} and len(hits) == 3
    assert graph.apply(StoreChanges("vs", 2, [1, 2, 3, 5, 6, 7, 8], [7, 8], vectors(2), ["a", "b"]))
    after = graph.in_files({"a", "c"})
    assert after.ids.tolist() == [1, 3, 6, 7]  # chunk 4 (file c) is gone, chunk 7 (file a) is new
