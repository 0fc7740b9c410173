"""Attribute filters compiled into SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from switchyard.retrieval.chunking import static_strategy
from switchyard.retrieval.filters import parse_filters
from switchyard.store import Database
from switchyard.store.vector_store_chunks import ChunkIndex
from switchyard.store.vector_stores import NewChunk, NewFile, VectorStoreRepository

ATTRIBUTES = {
    "f1": {"lang": "en", "year": 2023, "score": 4.5, "draft": False, "tag": "b"},
    "f2": {"lang": "fr", "year": 2024, "draft": True, "tag": "a"},
    "f3": {"lang": "en", "year": "2024"},
    "f4": {},
}
VECTOR = b"\x00\x00\x80\x3f"


def eq(key: str, value: object) -> dict[str, object]:
    return {"type": "eq", "key": key, "value": value}


CASES = [
    (eq("lang", "en"), {"f1", "f3"}),
    (eq("year", 2024), {"f2"}),
    (eq("year", "2024"), {"f3"}),
    (eq("year", 2023.0), {"f1"}),
    (eq("draft", True), {"f2"}),
    (eq("draft", False), {"f1"}),
    (eq("missing", "x"), set()),
    ({"type": "ne", "key": "lang", "value": "en"}, {"f2", "f4"}),
    ({"type": "ne", "key": "draft", "value": True}, {"f1", "f3", "f4"}),
    ({"type": "gt", "key": "year", "value": 2023}, {"f2"}),
    ({"type": "gte", "key": "year", "value": 2023}, {"f1", "f2"}),
    ({"type": "lt", "key": "score", "value": 5}, {"f1"}),
    ({"type": "lte", "key": "year", "value": 2023}, {"f1"}),
    ({"type": "gt", "key": "tag", "value": "a"}, {"f1"}),
    ({"type": "lte", "key": "lang", "value": "en"}, {"f1", "f3"}),
    ({"type": "in", "key": "lang", "value": ["fr", "de"]}, {"f2"}),
    ({"type": "in", "key": "year", "value": [2023, "2024"]}, {"f1", "f3"}),
    ({"type": "nin", "key": "lang", "value": ["en"]}, {"f2", "f4"}),
    ({"type": "and", "filters": [eq("lang", "en"), eq("draft", False)]}, {"f1"}),
    ({"type": "or", "filters": [eq("tag", "a"), {"type": "lt", "key": "year", "value": 2024}]}, {"f1", "f2"}),
    ({"type": "and", "filters": [eq("lang", "en"), {"type": "or", "filters": [eq("year", "2024"), eq("tag", "b")]}]},
     {"f1", "f3"}),
]


@pytest.fixture
async def store(database: Database) -> str:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", files=[NewFile(f, f"{f}.txt", static_strategy(), a)
                                              for f, a in ATTRIBUTES.items()])
    while (claimed := await repo.claim_file("w", 30)) is not None:
        await repo.complete_file(store.id, claimed.id, "w", [NewChunk(f"common words of {claimed.id}", 4, VECTOR)])
    return store.id


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
async def test_every_operator(database: Database, store: str, filters: dict[str, object], expected: set[str]) -> None:
    index = ChunkIndex(database)
    parsed = parse_filters(filters)
    assert parsed is not None
    ids = await index.matching_ids([store], parsed)
    assert {chunk.file_id for chunk in (await index.chunks(ids)).values()} == expected
    # the same filter restricts full-text matches inside the text query
    matches = await index.text_search([store], ["common"], filters=parsed)
    assert {chunk.file_id for chunk in (await index.chunks([id for id, _ in matches])).values()} == expected
