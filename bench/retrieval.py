"""Retrieval benchmark: quality, ingestion throughput, and search latency.

Quality: a real document collection available offline, the ``pydoc`` text of the
Python standard library's modules (~200 top-level modules and a few key
submodules, about 4 MB), one file per module, ingested through the real pipeline
(``Ingester``: extract, chunk 800/400 tokens, embed with the embedded MiniLM,
index). The queries below were written by hand, each labelled with the module(s)
whose documentation answers it; half are natural-language descriptions, half
identifiers. Ranking is per file (``max_chunks_per_file=1``); we report nDCG@10 and
recall@10 of hybrid search against vector-only and full-text-only (the same
searcher with one fusion weight set to 0).

Latency: 100,000 synthetic chunks (words sampled from the same collection, random
unit 384-d vectors) inserted straight through the repository; queries embedded by
a stub returning random unit vectors, so the figure is the store's search cost
(vector scan + full-text + fusion + fetching results), not the model's. The
model's own per-query embedding time is reported beside it.

    .venv/bin/python bench/retrieval.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/retrieval.py --backends sqlite --chunks 20000 --quick
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import pydoc
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from switchyard.config import ModelConfig  # noqa: E402
from switchyard.providers.base import Embeddings  # noqa: E402
from switchyard.providers.local_embeddings import LocalEmbedder  # noqa: E402
from switchyard.retrieval import Ingester, VectorStoreSearch, parse_chunking_strategy  # noqa: E402
from switchyard.retrieval.vectors import to_bytes  # noqa: E402
from switchyard.store import Database  # noqa: E402
from switchyard.store.blobs import BlobStore  # noqa: E402
from switchyard.store.files import FileRepository  # noqa: E402
from switchyard.store.vector_stores import NewChunk, NewFile, VectorStoreRepository  # noqa: E402

SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "lib2to3", "test", "pydoc_data",
        "ensurepip", "venv", "__future__", "__main__"}
SUBMODULES = ["concurrent.futures", "urllib.parse", "urllib.request", "http.client", "http.server", "email.message",
              "xml.etree.ElementTree", "logging.handlers", "collections.abc", "importlib.resources", "unittest.mock",
              "os.path"]

# query -> modules whose documentation answers it
QUERIES: dict[str, list[str]] = {
    # described in words
    "compute the greatest common divisor of two integers": ["math"],
    "copy an entire directory tree recursively": ["shutil"],
    "parse command line options and arguments": ["argparse", "optparse", "getopt"],
    "generate cryptographically strong random tokens for passwords": ["secrets"],
    "run an external program and capture its output": ["subprocess"],
    "serialize python objects to a byte stream": ["pickle", "marshal"],
    "compress data with the deflate algorithm": ["zlib", "gzip"],
    "read and write tar archives": ["tarfile"],
    "find the differences between two sequences of lines": ["difflib"],
    "match text against regular expression patterns": ["re"],
    "send email through an SMTP server": ["smtplib"],
    "priority queue implemented with a binary heap": ["heapq"],
    "keep a list sorted by inserting with binary search": ["bisect"],
    "measure how long a small snippet of code takes to run": ["timeit"],
    "interactive source code debugger with breakpoints": ["pdb", "bdb"],
    "decimal fixed point arithmetic with exact rounding": ["decimal"],
    "rational numbers with a numerator and a denominator": ["fractions"],
    "calculate the mean, median and standard deviation of data": ["statistics"],
    "object oriented filesystem paths": ["pathlib"],
    "temporary files and directories removed automatically": ["tempfile"],
    "run functions asynchronously in a pool of threads or processes": ["concurrent.futures", "multiprocessing"],
    "wrap text into paragraphs of a fixed width": ["textwrap"],
    "read and write comma separated values files": ["csv"],
    "parse configuration files in INI format": ["configparser"],
    "cryptographic hash functions such as sha256": ["hashlib"],
    "keyed hashing for message authentication": ["hmac"],
    "encode binary data as printable ASCII text": ["base64", "binascii"],
    "convert between Python values and C structs packed as bytes": ["struct"],
    "synchronize threads with locks and conditions": ["threading"],
    "low-level networking interface": ["socket"],
    "TLS encryption for network connections": ["ssl"],
    "symbolic names bound to unique constant values": ["enum"],
    "cache the results of a function call": ["functools"],
    "permutations and combinations of iterables": ["itertools"],
    "abstract syntax trees of Python source code": ["ast"],
    "disassemble bytecode into instructions": ["dis"],
    "record log messages with severity levels": ["logging"],
    "write unit tests with assertions": ["unittest"],
    "parse XML documents into a tree of elements": ["xml.etree.ElementTree"],
    "split a URL into its components": ["urllib.parse"],
    "fetch a web page over HTTP": ["urllib.request", "http.client"],
    "replace parts of the system under test with fake objects": ["unittest.mock"],
    "write concurrent code with async and await on an event loop": ["asyncio"],
    "trace memory allocations to find leaks": ["tracemalloc"],
    "IPv4 and IPv6 addresses and networks": ["ipaddress"],
    "a SQL database stored in a single file": ["sqlite3"],
    "guess the type of a file from its name": ["mimetypes"],
    "print a calendar of a month or a year": ["calendar"],
    # identifiers and keywords
    "shutil.rmtree": ["shutil"],
    "os.makedirs exist_ok": ["os"],
    "OrderedDict defaultdict Counter": ["collections"],
    "namedtuple": ["collections"],
    "ThreadPoolExecutor": ["concurrent.futures"],
    "urlencode quote_plus": ["urllib.parse"],
    "SequenceMatcher": ["difflib"],
    "Popen communicate returncode": ["subprocess"],
    "lru_cache": ["functools"],
    "ExitStack suppress": ["contextlib"],
    "asdict astuple": ["dataclasses"],
    "JSONDecodeError": ["json"],
    "getaddrinfo": ["socket"],
    "limit_denominator": ["fractions"],
    "strptime strftime": ["datetime", "time"],
    "SIGINT default_int_handler": ["signal"],
    "RotatingFileHandler": ["logging.handlers"],
    "islice chain.from_iterable": ["itertools"],
    "crc32 adler32": ["zlib", "binascii"],
    "ZIP_DEFLATED": ["zipfile"],
    "ElementTree SubElement": ["xml.etree.ElementTree"],
    "MagicMock side_effect": ["unittest.mock"],
    "TextIOWrapper": ["io"],
    "getpass": ["getpass"],
}
MODES = {
    "hybrid": None,
    "vector": {"hybrid_search": {"embedding_weight": 1, "text_weight": 0}},
    "text": {"hybrid_search": {"embedding_weight": 0, "text_weight": 1}},
}
WEIGHT_GRID = [(1.0, 0.5), (1.0, 1.0), (1.0, 2.0), (2.0, 1.0)]
K = 10


def collection() -> dict[str, str]:
    """Module name -> its pydoc text, for the importable public stdlib modules."""
    warnings.simplefilter("ignore")
    names = sorted(n for n in sys.stdlib_module_names if not n.startswith("_") and n not in SKIP) + SUBMODULES
    docs = {}
    for name in names:
        try:
            docs[name] = pydoc.render_doc(importlib.import_module(name), renderer=pydoc.plaintext)
        except Exception:  # modules this platform lacks
            continue
    return docs


def ndcg(ranked: list[str], relevant: set[str], k: int = K) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, name in enumerate(ranked[:k]) if name in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def recall(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class RandomEmbedder:
    """Random unit vectors: search cost without the model."""

    dimensions = 384

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        vectors = self.rng.standard_normal((len(texts), self.dimensions)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return Embeddings(vectors=vectors.tolist(), input_tokens=0)

    async def aclose(self) -> None:
        pass


async def open_db(backend: str, workdir: Path, pg_url: str) -> tuple[Database, Any]:
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{workdir / f'bench-{time.monotonic_ns()}.db'}")
        await db.start()
        return db, None
    from tests.pg import fresh_postgres_url

    context = fresh_postgres_url()
    url = await context.__aenter__()
    db = Database(url)
    await db.start()
    return db, context


async def close_db(db: Database, context: Any) -> None:
    await db.aclose()
    if context is not None:
        await context.__aexit__(None, None, None)


async def quality(backend: str, docs: dict[str, str], embedder: LocalEmbedder, workdir: Path,
                  pg_url: str) -> dict[str, Any]:
    db, context = await open_db(backend, workdir, pg_url)
    try:
        blobs = BlobStore(workdir / f"blobs-{backend}")
        repo, files = VectorStoreRepository(db), FileRepository(db)
        store = await repo.create("bench")
        strategy = parse_chunking_strategy(None)
        for name, text in docs.items():
            blob = await blobs.write_stream(_one(text.encode()), 1 << 30)
            file = await files.create("bench", filename=f"{name}.txt", purpose="assistants", blob=blob,
                                      mime_type="text/plain")
            await repo.add_file(store.id, "bench", NewFile(file.id, f"{name}.txt", strategy, {"module": name}))
        ingester = Ingester(db, blobs, lambda _: embedder, concurrency=2)
        started = time.perf_counter()
        ingester.start()
        while (await repo.get(store.id, "bench")).status == "in_progress":  # type: ignore[union-attr]
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        await ingester.stop()
        record = await repo.get(store.id, "bench")
        assert record is not None
        chunks = 0
        async with db.session() as session:
            from sqlalchemy import func, select

            from switchyard.store.vector_store_models import VectorStoreChunk
            chunks = int(await session.scalar(select(func.count()).select_from(VectorStoreChunk)) or 0)

        search = VectorStoreSearch(db, lambda _: embedder)
        modes: dict[str, Any] = dict(MODES)
        for ew, tw in WEIGHT_GRID:
            modes[f"hybrid e={ew:g} t={tw:g}"] = {"hybrid_search": {"embedding_weight": ew, "text_weight": tw}}
        results: dict[str, dict[str, float]] = {}
        per_query: dict[str, dict[str, float]] = {}
        for mode, options in modes.items():
            scores_n, scores_r = [], []
            for query, relevant in QUERIES.items():
                hits = await search.search([store.id], "bench", query, max_num_results=K, max_chunks_per_file=1,
                                           ranking_options=options)
                ranked = [hit.filename.removesuffix(".txt") for hit in hits]
                scores_n.append(ndcg(ranked, set(relevant)))
                scores_r.append(recall(ranked, set(relevant)))
                per_query.setdefault(query, {})[mode] = scores_n[-1]
            results[mode] = {"ndcg@10": statistics.fmean(scores_n), "recall@10": statistics.fmean(scores_r)}
        return {
            "documents": len(docs), "bytes": sum(len(t.encode()) for t in docs.values()), "chunks": chunks,
            "files": record.file_counts.completed, "failed": record.file_counts.failed,
            "ingest_seconds": round(elapsed, 1), "chunks_per_second": round(chunks / elapsed, 1),
            "quality": results, "per_query_ndcg": per_query,
        }
    finally:
        await close_db(db, context)


async def latency(backend: str, total: int, vocabulary: list[str], workdir: Path, pg_url: str,
                  queries: int) -> dict[str, Any]:
    db, context = await open_db(backend, workdir, pg_url)
    rng = np.random.default_rng(1)
    try:
        repo = VectorStoreRepository(db)
        per_file = 1000
        n_files = max(1, total // per_file)
        store = await repo.create("bench")
        started = time.perf_counter()
        for f in range(n_files):
            await repo.add_file(store.id, "bench", NewFile(f"file-{f:05d}", f"synthetic-{f}.txt",
                                                            parse_chunking_strategy(None), {"group": f % 10}))
            claimed = await repo.claim_file("bench", 600)
            assert claimed is not None
            vectors = rng.standard_normal((per_file, 384)).astype(np.float32)
            words = rng.choice(len(vocabulary), size=(per_file, 60))
            chunks = [NewChunk(" ".join(vocabulary[w] for w in row), 80, to_bytes(vector))
                      for row, vector in zip(words, vectors, strict=True)]
            assert await repo.complete_file(store.id, claimed.id, "bench", chunks)
        insert_seconds = time.perf_counter() - started

        search = VectorStoreSearch(db, lambda _: RandomEmbedder())
        texts = [" ".join(vocabulary[w] for w in rng.choice(len(vocabulary), size=3)) for _ in range(queries)]
        cold_started = time.perf_counter()
        await search.search([store.id], "bench", texts[0])
        cold = time.perf_counter() - cold_started
        figures: dict[str, Any] = {"chunks": n_files * per_file, "insert_seconds": round(insert_seconds, 1),
                                   "first_search_seconds (loads the matrix)": round(cold, 2)}
        for label, filters in (("hybrid", None), ("hybrid + filter (1/10 of chunks)",
                                                  {"type": "eq", "key": "group", "value": 3})):
            times = []
            for text in texts:
                t0 = time.perf_counter()
                await search.search([store.id], "bench", text, max_num_results=10, filters=filters)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            figures[label] = {"p50_ms": round(times[len(times) // 2], 1),
                              "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1)}
        return figures
    finally:
        await close_db(db, context)


async def embed_latency(embedder: LocalEmbedder, queries: list[str]) -> dict[str, float]:
    times = []
    for text in queries:
        t0 = time.perf_counter()
        await embedder.embed([text])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 1), "p99_ms": round(times[int(len(times) * 0.99)], 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="latency queries per backend")
    parser.add_argument("--quick", action="store_true", help="50 modules for the quality run")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--pg-url", default="")
    args = parser.parse_args()

    docs = collection()
    if args.quick:
        needed = {m for relevant in QUERIES.values() for m in relevant}
        docs = {name: text for name, text in docs.items() if name in needed}
    vocabulary = sorted({w for text in docs.values() for w in text.split() if w.isalpha() and len(w) > 2})
    report: dict[str, Any] = {"queries": len(QUERIES), "python": sys.version.split()[0], "backends": {}}
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    embedder = LocalEmbedder(ModelConfig(name="minilm", provider="local", task="embedding"), workdir)
    await embedder.start()
    report["query_embedding_minilm"] = await embed_latency(embedder, list(QUERIES)[:60] * 2)
    for backend in args.backends.split(","):
        entry: dict[str, Any] = {}
        if not args.skip_quality:
            entry["collection"] = await quality(backend, docs, embedder, workdir, args.pg_url)
            print(backend, json.dumps({k: v for k, v in entry["collection"].items() if k != "per_query_ndcg"},
                                      indent=1), flush=True)
        entry["latency"] = await latency(backend, args.chunks, vocabulary, workdir, args.pg_url, args.queries)
        print(backend, json.dumps(entry["latency"], indent=1), flush=True)
        report["backends"][backend] = entry
    await embedder.aclose()
    out = ROOT / "bench" / "results" / f"retrieval-{int(time.time())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print("written", out)


if __name__ == "__main__":
    asyncio.run(main())
