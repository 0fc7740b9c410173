"""Full-text search of a large store on the embedded default (SQLite), through the
official SDK: a server whose stores are all "large" (``vector_index_min_chunks: 0``)
ranks full-text matches with its per-store tantivy index, another with the default
threshold with FTS5's exact query; on the same files both find the same matches,
filtered or not. Only the full-text list counts (``embedding_weight: 0``)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.conftest import LOCAL_EMBEDDING
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.slow

DOCS = {
    "erebus.txt": "Mount Erebus holds a persistent lava lake in its crater.",
    "flows.txt": "Lava flows from the volcano, volcano, volcano down the slopes.",
    "ash.txt": "The eruption of the volcano threw ash over the town.",
    "bread.txt": "Sourdough bread rises because wild yeast ferments the dough.",
    "oven.txt": "Bake the bread in a hot oven until the crust is brown.",
    "cafe.txt": "The bakery sells bread, cakes and naïve café pastries.",
    "paths.txt": "Call os_path join to build a path from parts; title: \"quoted\" AND (more)*.",
}
QUERIES = ["volcano lava", "bread", "baked breads", "naive cafe", "os_path", "eruption ash town", "path title AND",
           "yeast crust oven", "nothing matches this"]
TEXT_ONLY = {"hybrid_search": {"embedding_weight": 0, "text_weight": 1}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    models = [{"name": LOCAL_EMBEDDING, "provider": "local", "task": "embedding"}]
    indexed = LiveServer(tmp_path_factory.mktemp("tantivy"), models, vector_index_min_chunks=0)
    exact = LiveServer(tmp_path_factory.mktemp("fts5"), models)
    for server in (indexed, exact):
        server.start(wait_ready=True)
    yield indexed, exact
    for server in (indexed, exact):
        server.stop()


def _client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120,
                         _strict_response_validation=True)


def _store(oai: openai.OpenAI) -> str:
    store = oai.vector_stores.create(name="fulltext")
    for name, text in DOCS.items():
        done = oai.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=(name, io.BytesIO(text.encode())))
        assert done.status == "completed", done.last_error
        oai.vector_stores.files.update(done.id, vector_store_id=store.id,
                                       attributes={"topic": "volcano" if name in ("erebus.txt", "flows.txt",
                                                                                  "ash.txt") else "other"})
    return store.id


def _hits(oai: openai.OpenAI, store: str, query: str, **extra: object) -> list[str]:
    page = oai.vector_stores.search(store, query=query, ranking_options=TEXT_ONLY, max_num_results=20,
                                    **extra)  # type: ignore[arg-type]
    return [hit.filename for hit in page.data]


def test_the_tantivy_index_finds_what_fts5_finds(servers: tuple[LiveServer, LiveServer]) -> None:
    indexed, exact = servers
    a, b = _client(indexed), _client(exact)
    store_a, store_b = _store(a), _store(b)
    # Where the two BM25s part, each server shows its own: FTS5's idf, log((N - n + .5) / (n + .5)),
    # puts the one "crater" first; tantivy's (Lucene's) log(1 + ...) weighs rare words less,
    # and the thrice-repeated "volcano" wins. A search answers from FTS5 until the index,
    # built in the background after each ingested file, has caught up with the store.
    deadline = time.monotonic() + 60
    while _hits(a, store_a, "volcano crater")[0] != "flows.txt" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _hits(a, store_a, "volcano crater")[0] == "flows.txt", "the tantivy index never answered"
    assert _hits(b, store_b, "volcano crater")[0] == "erebus.txt"
    assert list(Path(indexed.workdir, "data", "vector_index", "text").glob(f"{store_a}.v*.npz"))
    assert not Path(exact.workdir, "data", "vector_index", "text").exists()  # a small store: FTS5 only
    volcano = {"filters": {"type": "eq", "key": "topic", "value": "volcano"}}
    for query in QUERIES:
        for extra in ({}, volcano):
            mine, theirs = _hits(a, store_a, query, **extra), _hits(b, store_b, query, **extra)
            assert sorted(mine) == sorted(theirs), (query, extra)
    assert _hits(a, store_a, "baked breads")[0] == _hits(b, store_b, "baked breads")[0] == "oven.txt"
    assert _hits(a, store_a, "os_path") == ["paths.txt"]
    assert set(_hits(a, store_a, "volcano lava", **volcano)) == {"erebus.txt", "flows.txt", "ash.txt"}
    a.close()
    b.close()
