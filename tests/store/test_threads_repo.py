from __future__ import annotations

import asyncio
from typing import Any

from switchyard.store import Database
from switchyard.store.assistants import AssistantRepository
from switchyard.store.thread_messages import MessageRepository
from switchyard.store.threads import ThreadRepository


def body(id_: str, text_: str = "hi", run_id: str | None = None) -> dict[str, Any]:
    return {"id": id_, "object": "thread.message", "role": "user", "run_id": run_id,
            "content": [{"type": "text", "text": {"value": text_, "annotations": []}}]}


async def test_threads_and_messages(database: Database) -> None:
    threads, messages = ThreadRepository(database), MessageRepository(database)
    thread, stored = await threads.create("thread_1", "alice", tool_resources={}, metadata={"a": "b"},
                                          messages=[body("msg_1"), body("msg_2")], now=1_700_000_000)
    assert [m.position for m in stored] == [0, 1] and stored[0].body["thread_id"] == "thread_1"
    assert await threads.get("thread_1", "bob") is None
    assert await messages.append("thread_1", "bob", [body("msg_x")]) is None
    appended = await messages.append("thread_1", "alice", [body("msg_3", run_id="run_1")])
    assert appended is not None and appended[0].position == 2 and appended[0].run_id == "run_1"
    assert [m.id for m in await messages.all("thread_1", "alice")] == ["msg_1", "msg_2", "msg_3"]
    page, more = await messages.list("thread_1", "alice", limit=2, order="asc", after="msg_1")
    assert [m.id for m in page] == ["msg_2", "msg_3"] and more is False
    page, more = await messages.list("thread_1", "alice", limit=1, order="desc", before="msg_1")
    assert [m.id for m in page] == ["msg_2"] and more is True
    page, _ = await messages.list("thread_1", "alice", run_id="run_1")
    assert [m.id for m in page] == ["msg_3"]
    assert (await messages.list("thread_1", "bob"))[0] == []
    replaced = await messages.replace("thread_1", "msg_3", "alice", {**appended[0].body, "status": "incomplete",
                                                                      "run_id": "run_other"})
    assert replaced is not None and replaced.body["status"] == "incomplete" and replaced.body["run_id"] == "run_1"
    assert await messages.replace("thread_1", "msg_3", "bob", {}) is None
    assert await messages.delete("thread_1", "msg_2", "bob") is False
    assert await messages.delete("thread_1", "msg_2", "alice") is True
    updated = await threads.update("thread_1", "alice", metadata={"c": "d"})
    assert updated is not None and updated.metadata == {"c": "d"} and thread.metadata == {"a": "b"}
    assert await threads.delete("thread_1", "bob") is False
    assert await threads.delete("thread_1", "alice") is True
    assert await messages.all("thread_1", "alice") == []


async def test_concurrent_appends_never_collide(database: Database) -> None:
    threads, messages = ThreadRepository(database), MessageRepository(database)
    await threads.create("thread_c", "alice", tool_resources={}, metadata={}, messages=[])
    await asyncio.gather(*(messages.append("thread_c", "alice", [body(f"msg_{i}")]) for i in range(12)))
    positions = [m.position for m in await messages.all("thread_c", "alice")]
    assert positions == list(range(12))


async def test_assistants_page_both_ways(database: Database) -> None:
    repo = AssistantRepository(database)
    ids = [(await repo.create(f"asst_{i}", "alice", {"model": "m"}, now=1_700_000_000 + i)).id for i in range(4)]
    await repo.create("asst_bob", "bob", {"model": "m"})
    page, more = await repo.list("alice", limit=2)
    assert [a.id for a in page] == ids[::-1][:2] and more is True
    page, more = await repo.list("alice", order="asc", after=ids[0], before=ids[3])
    assert [a.id for a in page] == ids[1:3] and more is False
    assert (await repo.list("alice", after="asst_bob"))[0] == []
    replaced = await repo.replace(ids[0], "alice", {"model": "n", "id": "forged", "created_at": 1})
    assert replaced is not None and replaced.body["id"] == ids[0] and replaced.body["created_at"] == 1_700_000_000
    assert await repo.replace(ids[0], "bob", {}) is None
    assert await repo.delete(ids[0], "bob") is False and await repo.delete(ids[0], "alice") is True


async def test_one_search_store_wins(database: Database) -> None:
    threads = ThreadRepository(database)
    await threads.create("thread_s", "alice", tool_resources={"code_interpreter": {"file_ids": ["f"]}}, metadata={},
                         messages=[])
    assert await threads.claim_search_store("thread_s", "bob", "vs_b", None) is None
    winners = await asyncio.gather(*(threads.claim_search_store("thread_s", "alice", f"vs_{i}", None)
                                     for i in range(5)))
    assert len(set(winners)) == 1
    thread = await threads.get("thread_s", "alice")
    assert thread is not None and thread.tool_resources == {"code_interpreter": {"file_ids": ["f"]},
                                                            "file_search": {"vector_store_ids": [winners[0]]}}
    assert await threads.claim_search_store("thread_s", "alice", "vs_new", winners[0]) == "vs_new"
