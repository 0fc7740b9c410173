"""``file_search`` in the agent loop, over vector stores in an in-memory SQLite, with a
scripted model and a stand-in embedder (a word-hashing ``Embedder``)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from switchyard.core.errors import ErrorKind
from switchyard.core.events import ItemDone, ItemStart
from switchyard.core.items import FunctionCallOutput, Item, text_message
from switchyard.core.request import Request, Tool, ToolChoice
from switchyard.core.run_events import RunEvent, RunFinished
from switchyard.core.tool_config import FileSearchConfig
from switchyard.core.tool_items import FileSearchCall
from switchyard.engine.agent.loop import AgentRun
from switchyard.engine.agent.spec import RunSpec
from switchyard.providers.base import Embeddings
from switchyard.retrieval import Ingester, VectorStoreSearch, parse_chunking_strategy
from switchyard.retrieval.service import Retrieval
from switchyard.store import Database
from switchyard.store.blobs import BlobStore
from switchyard.store.vector_stores import NewFile, VectorStoreRepository
from switchyard.tools.builtin import BuiltinConfigs, ToolServices
from switchyard.tools.file_search import MAX_SEARCH_ROUNDS
from tests.engine.fake_provider import FakeProvider, call_turn, route, text_turn
from tests.retrieval.conftest import upload

DOCS = {"refunds.txt": "Refunds are paid within 14 days of a return.",
        "shipping.txt": "Parcels ship from Rotterdam every Tuesday."}


class WordHashEmbedder:
    dimensions = 64

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        vectors = []
        for text in texts:
            v = np.zeros(self.dimensions, dtype=np.float32)
            for word in text.lower().split():
                v[int(hashlib.sha256(word.strip(".,").encode()).hexdigest(), 16) % self.dimensions] += 1
            vectors.append((v / (np.linalg.norm(v) or 1)).tolist())
        return Embeddings(vectors, sum(len(t.split()) for t in texts))

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def retrieval(tmp_path: Path) -> AsyncIterator[tuple[Retrieval, str]]:
    db = Database("sqlite+aiosqlite:///:memory:")
    await db.start()
    blobs = BlobStore(tmp_path / "blobs")
    embedder = WordHashEmbedder()
    repo = VectorStoreRepository(db)
    store = await repo.create("alice")
    for name, text in DOCS.items():
        file = await upload(db, blobs, "alice", name, text.encode(), "text/plain")
        await repo.add_file(store.id, "alice", NewFile(file.id, name, parse_chunking_strategy(None), {}))
    ingester = Ingester(db, blobs, lambda _: embedder)
    while await ingester.run_once():
        pass
    try:
        yield Retrieval(ingester, VectorStoreSearch(db, lambda _: embedder), None), store.id
    finally:
        await db.aclose()


async def run(provider: FakeProvider, retrieval: Retrieval, store_id: str, owner: str = "alice",
              choice: ToolChoice | None = None) -> list[RunEvent]:
    events: list[RunEvent] = []

    async def emit(event: RunEvent) -> None:
        events.append(event)

    def turn_request(items: list[Item], tools: list[Tool], turn: int, allowed: bool) -> Request:
        return Request(model="fake", items=list(items), tools=list(tools))

    counter = itertools.count(1)
    context: list[Item] = [text_message("user", "How fast are refunds?")]
    spec = RunSpec(route(provider), context, list(context), turn_request, owner,
                   lambda prefix: f"{prefix}{next(counter)}", tool_choice=choice,
                   configs=BuiltinConfigs(file_search=FileSearchConfig([store_id], max_num_results=1)))
    await AgentRun(spec, ToolServices(retrieval=retrieval), emit).run()
    return events


async def test_a_search_shows_its_item_and_feeds_the_model(retrieval: tuple[Retrieval, str]) -> None:
    provider = FakeProvider([call_turn(("c1", "file_search", "{\"queries\": [\"refunds paid days\"]}")),
                             text_turn("Within 14 days.")])
    events = await run(provider, *retrieval)
    items = [e for e in events if isinstance(e, ItemStart | ItemDone)]
    assert [type(e) for e in items] == [ItemStart, ItemDone]
    start, done = items[0].item, items[1].item
    assert isinstance(start, FileSearchCall) and isinstance(done, FileSearchCall)
    assert (start.id, start.status, start.results) == ("fs_1", "in_progress", None)
    assert done.queries == ["refunds paid days"] and done.status == "completed"
    assert [r.filename for r in done.results or []] == ["refunds.txt"]
    answer = provider.requests[1].items[-1]
    assert isinstance(answer, FunctionCallOutput) and "within 14 days" in answer.text()
    assert "<passage file=\"refunds.txt\"" in answer.text()


async def test_another_owners_store_is_not_found(retrieval: tuple[Retrieval, str]) -> None:
    provider = FakeProvider([call_turn(("c1", "file_search", "{\"queries\": [\"refunds\"]}")), text_turn("?")])
    events = await run(provider, *retrieval, owner="mallory")
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "failed"
    assert finished.error is not None and finished.error.kind is ErrorKind.NOT_FOUND
    assert not any(isinstance(e, ItemDone) for e in events)
    assert len(provider.requests) == 1


async def test_nothing_found_tells_the_model_so(retrieval: tuple[Retrieval, str]) -> None:
    provider = FakeProvider([call_turn(("c1", "file_search", "{\"queries\": []}")), text_turn("?")])
    events = await run(provider, *retrieval)
    done = [e.item for e in events if isinstance(e, ItemDone)]
    assert done == [FileSearchCall("fs_1", [], [])]
    answer = provider.requests[1].items[-1]
    assert isinstance(answer, FunctionCallOutput) and answer.text() == "No relevant passages were found in the files."


@pytest.mark.parametrize(("choice", "rounds"), [
    pytest.param(None, MAX_SEARCH_ROUNDS, id="auto"),
    pytest.param(ToolChoice("tool", "file_search"), 1, id="forced"),
])
async def test_the_tool_is_withdrawn_after_its_rounds(retrieval: tuple[Retrieval, str], choice: ToolChoice | None,
                                                      rounds: int) -> None:
    search = call_turn(("c", "file_search", "{\"queries\": [\"ship\"]}"))
    provider = FakeProvider([search] * rounds + [text_turn("ok")])
    await run(provider, *retrieval, choice=choice)
    offered = [[t.name for t in r.tools] for r in provider.requests]
    assert offered == [["file_search"]] * rounds + [[]]
