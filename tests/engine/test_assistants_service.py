"""What a run uses of ``AssistantsService`` (docs/assistants.md, "For runs"), over an
in-memory SQLite: a thread as canonical items, the run's assistant message appended and
updated as it streams, messages tagged with the run, and the run's tool resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.codecs.openai_assistants.assistant_in import decode_assistant
from switchyard.codecs.openai_assistants.message_in import decode_message, text_block
from switchyard.codecs.openai_assistants.thread_in import decode_thread
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.items import FilePart, ImagePart, Message, TextPart
from switchyard.engine.assistants.service import AssistantsService, Page
from switchyard.gateway.router import ModelRegistry
from switchyard.retrieval import Ingester, VectorStoreSearch
from switchyard.retrieval.service import Retrieval
from switchyard.store import Database
from switchyard.store.blobs import BlobStore
from switchyard.store.vector_stores import VectorStoreRepository
from tests.engine.fake_provider import FakeProvider, route
from tests.retrieval.conftest import upload

CITATION = {"type": "file_citation", "text": "【4:0†notes.txt】", "file_citation": {"file_id": "file-x"},
            "start_index": 5, "end_index": 19}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[AssistantsService, Database, BlobStore]]:
    db = Database("sqlite+aiosqlite:///:memory:")
    await db.start()
    blobs = BlobStore(tmp_path / "blobs")

    def no_embedder(_: object) -> object:
        raise AssertionError("nothing is embedded here")

    retrieval = Retrieval(Ingester(db, blobs, no_embedder), VectorStoreSearch(db, no_embedder), None)
    try:
        yield AssistantsService(db, ModelRegistry([route(FakeProvider([]))]), retrieval), db, blobs
    finally:
        await db.aclose()


async def test_a_run_reads_the_thread_and_writes_its_message(env: tuple[AssistantsService, Database,
                                                                       BlobStore]) -> None:
    service, db, blobs = env
    image = await upload(db, blobs, "alice", "cat.png", b"png", "image/png")
    thread, _ = await service.create_thread("alice", decode_thread({"messages": [
        {"role": "user", "content": [{"type": "text", "text": "Look:"},
                                     {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                                     {"type": "image_file", "image_file": {"file_id": image.id}}]},
        {"role": "assistant", "content": "A cat."},
    ]}, create=True))
    items = await service.thread_items("alice", thread.id)
    assert items[1] == Message(role="assistant", content=[TextPart("A cat.")])
    first = items[0]
    assert first.role == "user" and isinstance(first.content[0], TextPart)
    assert isinstance(first.content[1], ImagePart) and first.content[1].url == "https://x.test/a.png"
    assert isinstance(first.content[2], FilePart) and first.content[2].file_id == image.id

    asked = await service.add_message("alice", thread.id, decode_message({"role": "user", "content": "More?"},
                                                                          "additional_messages[0]"), run_id="run_1")
    assert asked.run_id == "run_1" and asked.body["run_id"] == "run_1"
    started = await service.start_assistant_message("alice", thread.id, run_id="run_1", assistant_id="asst_1")
    assert started.body["status"] == "in_progress" and started.body["content"] == []
    assert started.body["assistant_id"] == "asst_1" and started.body["completed_at"] is None
    partial = await service.update_message("alice", thread.id, started.id, content=[text_block("Yes, ")])
    assert partial.body["content"][0]["text"]["value"] == "Yes, " and partial.body["status"] == "in_progress"
    done = await service.update_message("alice", thread.id, started.id, status="completed",
                                        content=[text_block("Yes, see 【4:0†notes.txt】", [CITATION])])
    assert done.body["status"] == "completed" and done.body["completed_at"] is not None
    assert done.body["content"][0]["text"]["annotations"] == [CITATION] and done.run_id == "run_1"
    page, more = await service.list_messages("alice", thread.id, Page(order="asc"), run_id="run_1")
    assert [m.id for m in page] == [asked.id, started.id] and more is False
    assert [i.text() for i in await service.thread_items("alice", thread.id)][-2:] == [
        "More?", "Yes, see 【4:0†notes.txt】"]

    cut = await service.start_assistant_message("alice", thread.id, run_id="run_2", assistant_id="asst_1")
    cut = await service.update_message("alice", thread.id, cut.id, status="incomplete",
                                       incomplete_reason="max_tokens")
    assert cut.body["incomplete_details"] == {"reason": "max_tokens"} and cut.body["incomplete_at"] is not None

    with pytest.raises(SwitchyardError) as caught:
        await service.thread_items("bob", thread.id)
    assert caught.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(SwitchyardError):
        await service.start_assistant_message("bob", thread.id, run_id="run_3", assistant_id="asst_1")


async def test_run_resources_merge_assistant_thread_and_attachments(env: tuple[AssistantsService, Database,
                                                                              BlobStore]) -> None:
    service, db, blobs = env
    files = [await upload(db, blobs, "alice", f"f{i}.csv", b"a,b\n") for i in range(3)]
    stores = VectorStoreRepository(db)
    mine, theirs = await stores.create("alice"), await stores.create("alice")
    assistant = await service.create_assistant("alice", decode_assistant({
        "model": "fake", "tool_resources": {"code_interpreter": {"file_ids": [files[0].id]},
                                            "file_search": {"vector_store_ids": [mine.id]}}}, create=True))
    thread, _ = await service.create_thread("alice", decode_thread({
        "tool_resources": {"code_interpreter": {"file_ids": [files[1].id, files[0].id]},
                           "file_search": {"vector_store_ids": [theirs.id]}},
        "messages": [{"role": "user", "content": "x", "attachments": [
            {"file_id": files[2].id, "tools": [{"type": "code_interpreter"}]}]}]}, create=True))
    resources = await service.run_resources("alice", assistant, thread)
    assert resources.vector_store_ids == [mine.id, theirs.id]
    assert resources.code_interpreter_file_ids == [files[0].id, files[1].id, files[2].id]
    assert (await service.get_assistant("alice", assistant.id)).body["model"] == "fake"
    with pytest.raises(SwitchyardError) as caught:
        await service.get_assistant("bob", assistant.id)
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.param == "assistant_id"
