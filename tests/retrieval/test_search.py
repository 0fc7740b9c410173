"""Hybrid search with the real embedded model, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.retrieval import Ingester, VectorStoreSearch, parse_chunking_strategy
from switchyard.store import Database
from switchyard.store.blobs import BlobStore
from switchyard.store.vector_stores import NewFile, VectorStoreRepository
from tests.retrieval.conftest import upload
from tests.retrieval.corpus import DOCS, KEYWORD_QUERIES, PARAPHRASE_QUERIES

pytestmark = pytest.mark.slow

VECTOR_ONLY = {"hybrid_search": {"embedding_weight": 1, "text_weight": 0}}
TEXT_ONLY = {"hybrid_search": {"embedding_weight": 0, "text_weight": 1}}


async def make_store(db: Database, blobs: BlobStore, embedder: LocalEmbedder, owner: str = "alice",
                     docs: dict[str, str] = DOCS) -> str:
    repo = VectorStoreRepository(db)
    store = await repo.create(owner)
    for name, text in docs.items():
        file = await upload(db, blobs, owner, name, text.encode())
        attributes = {"kind": name.split(".")[0][:1], "length": len(text)}
        await repo.add_file(store.id, owner, NewFile(file.id, name, parse_chunking_strategy(None), attributes))
    ingester = Ingester(db, blobs, lambda _: embedder)
    while await ingester.run_once():
        pass
    return store.id


async def mrr(search: VectorStoreSearch, store: str, queries: dict[str, str], options: object) -> float:
    total = 0.0
    for query, answer in queries.items():
        names = [hit.filename for hit in await search.search([store], "alice", query, ranking_options=options)]
        total += 1 / (names.index(answer) + 1) if answer in names else 0.0
    return total / len(queries)


async def test_hybrid_beats_each_half_where_it_is_weak(database: Database, blobs: BlobStore,
                                                       embedder: LocalEmbedder) -> None:
    store = await make_store(database, blobs, embedder)
    search = VectorStoreSearch(database, lambda _: embedder)
    keyword = {mode: await mrr(search, store, KEYWORD_QUERIES, options)
               for mode, options in (("hybrid", None), ("vector", VECTOR_ONLY))}
    paraphrase = {mode: await mrr(search, store, PARAPHRASE_QUERIES, options)
                  for mode, options in (("hybrid", None), ("text", TEXT_ONLY))}
    assert keyword["hybrid"] > keyword["vector"], keyword
    assert paraphrase["hybrid"] > paraphrase["text"], paraphrase


async def test_results_shape_threshold_and_limits(database: Database, blobs: BlobStore,
                                                  embedder: LocalEmbedder) -> None:
    store = await make_store(database, blobs, embedder)
    search = VectorStoreSearch(database, lambda _: embedder)
    hits = await search.search([store], "alice", "E4471", max_num_results=3)
    assert len(hits) == 3
    top = hits[0]
    assert top.filename == "e4471.txt" and top.file_id.startswith("file-")
    assert top.content == [{"type": "text", "text": DOCS["e4471.txt"]}]
    assert top.attributes == {"kind": "e", "length": len(DOCS["e4471.txt"])}
    assert top.to_wire().keys() == {"file_id", "filename", "score", "attributes", "content"}
    assert all(0 <= h.score <= 1 for h in hits) and [h.score for h in hits] == sorted(
        (h.score for h in hits), reverse=True)

    strict = await search.search([store], "alice", "E4471", ranking_options={"score_threshold": 0.9})
    assert [h.filename for h in strict] == ["e4471.txt"]
    assert len(await search.search([store], "alice", "cats", max_num_results=50)) == len(DOCS)

    none = await search.search([store], "alice", "which animal meows", ranking_options={"ranker": "none"})
    assert none[0].filename == "cats.txt" and 0 < none[0].score < 1

    for bad in (0, 51, "5", True):
        with pytest.raises(SwitchyardError) as caught:
            await search.search([store], "alice", "x", max_num_results=bad)  # type: ignore[arg-type]
        assert caught.value.param == "max_num_results"


async def test_filters_apply_to_both_halves(database: Database, blobs: BlobStore, embedder: LocalEmbedder) -> None:
    store = await make_store(database, blobs, embedder)
    search = VectorStoreSearch(database, lambda _: embedder)
    only_errors = {"type": "eq", "key": "kind", "value": "e"}
    hits = await search.search([store], "alice", "XQ-9001 replacement power supply", filters=only_errors)
    assert {h.filename for h in hits} == {"e4471.txt", "e4472.txt", "e4473.txt"}
    short = {"type": "and", "filters": [only_errors, {"type": "lt", "key": "length", "value": 75}]}
    assert {h.filename for h in await search.search([store], "alice", "error", filters=short)} == {
        "e4472.txt", "e4473.txt"}
    with pytest.raises(SwitchyardError) as caught:
        await search.search([store], "alice", "x", filters={"type": "and", "filters": [{"type": "eq"}]})
    assert caught.value.status == 400 and caught.value.param == "filters.filters[0].key"


async def test_tenancy_and_errors(database: Database, blobs: BlobStore, embedder: LocalEmbedder) -> None:
    store = await make_store(database, blobs, embedder, docs={"a.txt": "alpha"})
    search = VectorStoreSearch(database, lambda _: embedder)
    # alice's search: this process has read her store (the next search reads it while it searches)
    assert [hit.filename for hit in await search.search([store], "alice", "alpha")] == ["a.txt"]
    with pytest.raises(SwitchyardError) as caught:
        await search.search([store], "bob", "alpha")
    assert caught.value.status == 404
    with pytest.raises(SwitchyardError) as caught:
        await search.search([], "alice", "alpha")
    assert caught.value.status == 400
    repo = VectorStoreRepository(database)
    await repo.update(store, "alice", expires_after_days=1, now=0)
    with pytest.raises(SwitchyardError) as caught:
        await search.search([store], "alice", "alpha")
    assert caught.value.status == 400 and "expired" in caught.value.message
    await repo.update(store, "alice", expires_after_days=None)
    assert [hit.filename for hit in await search.search([store], "alice", "alpha")] == ["a.txt"]
    assert await repo.delete(store, "alice")
    with pytest.raises(SwitchyardError) as caught:  # a store gone since: its error, not the lists made meanwhile
        await search.search([store], "alice", "alpha")
    assert caught.value.status == 404


async def test_several_stores_queries_and_per_file_cap(database: Database, blobs: BlobStore,
                                                       embedder: LocalEmbedder) -> None:
    first = await make_store(database, blobs, embedder, docs={"paris.txt": DOCS["paris.txt"]})
    second = await make_store(database, blobs, embedder, docs={"tokyo.txt": DOCS["tokyo.txt"]})
    search = VectorStoreSearch(database, lambda _: embedder)
    hits = await search.search([first, second], "alice", ["capital of France", "capital of Japan"])
    assert {h.filename for h in hits} == {"paris.txt", "tokyo.txt"}
    assert {h.vector_store_id for h in hits} == {first, second}

    long_text = " ".join(f"Fact {i}: the moon orbits the earth." for i in range(400))
    third = await make_store(database, blobs, embedder, docs={"moon.txt": long_text, "sun.txt": "the sun shines"})
    capped = await search.search([third], "alice", "moon orbit", max_num_results=10, max_chunks_per_file=1)
    assert [h.filename for h in capped] == ["moon.txt", "sun.txt"]
    uncapped = await search.search([third], "alice", "moon orbit", max_num_results=10)
    assert [h.filename for h in uncapped].count("moon.txt") > 1


async def test_rewrite_query(database: Database, blobs: BlobStore, embedder: LocalEmbedder) -> None:
    store = await make_store(database, blobs, embedder)
    search = VectorStoreSearch(database, lambda _: embedder)
    hits = await search.search([store], "alice", "What is the meaning of the error E4473?", rewrite_query=True)
    assert hits == await search.search([store], "alice", "meaning error e4473")
    assert "e4473.txt" in [hit.filename for hit in hits[:3]]


async def test_vectors_are_cached_until_the_store_changes(database: Database, blobs: BlobStore,
                                                          embedder: LocalEmbedder) -> None:
    store = await make_store(database, blobs, embedder, docs={"a.txt": "alpha particles"})
    search = VectorStoreSearch(database, lambda _: embedder)
    loads = 0 if database.pgvector is not None else 1  # pgvector: no matrix in process at all
    for _ in range(3):
        await search.search([store], "alice", "alpha")
    assert search.cache.loads == loads
    repo = VectorStoreRepository(database)
    file = await upload(database, blobs, "alice", "b.txt", b"beta decay")
    await repo.add_file(store, "alice", NewFile(file.id, "b.txt", parse_chunking_strategy(None)))
    await Ingester(database, blobs, lambda _: embedder).run_once()
    hits = await search.search([store], "alice", "beta decay")
    assert search.cache.loads == 2 * loads and hits[0].filename == "b.txt"
    assert await repo.delete_file(store, file.id, "alice")
    hits = await search.search([store], "alice", "beta decay")
    assert search.cache.loads == 3 * loads and [h.filename for h in hits] == ["a.txt"]
