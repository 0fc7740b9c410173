from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from switchyard.store import Database
from switchyard.store.conversations import ConversationRepository, DuplicateItemError


def msg(id_: str, text_: str = "hi") -> dict[str, Any]:
    return {"type": "message", "id": id_, "role": "user", "content": [{"type": "input_text", "text": text_}]}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


@pytest.fixture
def repo(database: Database) -> ConversationRepository:
    return ConversationRepository(database)


async def test_create_get_update_delete(repo: ConversationRepository, database: Database) -> None:
    created = await repo.create("alice", {"topic": "demo"}, [msg("msg_1"), msg("msg_2")], created_at=1_700_000_000)
    assert created.id.startswith("conv_")
    assert (created.owner_id, created.metadata, created.created_at) == ("alice", {"topic": "demo"}, 1_700_000_000)
    assert await repo.get(created.id, "alice") == created
    assert await repo.get(created.id, "bob") is None
    assert ids(await repo.all_items(created.id, "alice")) == ["msg_1", "msg_2"]

    assert await repo.update(created.id, "bob", {"topic": "stolen"}) is None
    updated = await repo.update(created.id, "alice", {"topic": "new"})
    assert updated is not None
    assert (updated.id, updated.metadata, updated.created_at) == (created.id, {"topic": "new"}, 1_700_000_000)
    assert await repo.get(created.id, "alice") == updated

    assert await repo.delete(created.id, "bob") is False
    assert await repo.get(created.id, "alice") is not None
    assert await repo.delete(created.id, "alice") is True
    assert await repo.get(created.id, "alice") is None
    assert await repo.delete(created.id, "alice") is False
    assert await repo.all_items(created.id, "alice") == []
    assert await repo.append_items(created.id, "alice", [msg("msg_3")]) is None
    async with database.session() as session:
        left = await session.scalar(
            text("SELECT count(*) FROM conversation_items WHERE conversation_id = :id"), {"id": created.id}
        )
    assert left == 0


async def test_create_stamps_the_time(repo: ConversationRepository) -> None:
    created = await repo.create("alice", {}, [])
    assert created.created_at > 1_700_000_000
    assert await repo.all_items(created.id, "alice") == []


async def test_append_and_read_items(repo: ConversationRepository) -> None:
    conv = await repo.create("alice", {}, [msg("msg_1")])
    stored = await repo.append_items(conv.id, "alice", [msg("msg_2", "two"), msg("msg_3")])
    assert stored == [msg("msg_2", "two"), msg("msg_3")]
    assert await repo.append_items(conv.id, "alice", []) == []
    assert await repo.append_items(conv.id, "bob", [msg("msg_4")]) is None
    assert ids(await repo.all_items(conv.id, "alice")) == ["msg_1", "msg_2", "msg_3"]
    assert await repo.all_items(conv.id, "bob") == []

    assert await repo.get_item(conv.id, "msg_2", "alice") == msg("msg_2", "two")
    assert await repo.get_item(conv.id, "msg_2", "bob") is None
    assert await repo.get_item(conv.id, "msg_9", "alice") is None

    assert await repo.delete_item(conv.id, "msg_2", "bob") is False
    assert await repo.delete_item(conv.id, "msg_2", "alice") is True
    assert await repo.delete_item(conv.id, "msg_2", "alice") is False
    assert await repo.get_item(conv.id, "msg_2", "alice") is None
    await repo.append_items(conv.id, "alice", [msg("msg_4")])
    assert ids(await repo.all_items(conv.id, "alice")) == ["msg_1", "msg_3", "msg_4"]


async def test_item_ids_are_per_conversation(repo: ConversationRepository) -> None:
    first = await repo.create("alice", {}, [msg("msg_1")])
    second = await repo.create("alice", {}, [msg("msg_1")])  # same item id elsewhere is fine
    with pytest.raises(DuplicateItemError) as raised:
        await repo.append_items(first.id, "alice", [msg("msg_2"), msg("msg_1")])
    assert raised.value.item_id == "msg_1"
    with pytest.raises(DuplicateItemError):
        await repo.append_items(first.id, "alice", [msg("msg_3"), msg("msg_3")])
    with pytest.raises(DuplicateItemError):
        await repo.create("alice", {}, [msg("msg_3"), msg("msg_3")])
    assert ids(await repo.all_items(first.id, "alice")) == ["msg_1"]  # nothing of the failed appends
    await repo.append_items(first.id, "alice", [msg("msg_2")])
    assert ids(await repo.all_items(first.id, "alice")) == ["msg_1", "msg_2"]
    items, _ = await repo.list_items(first.id, "alice", order="asc")
    assert ids(items) == ["msg_1", "msg_2"]
    assert ids(await repo.all_items(second.id, "alice")) == ["msg_1"]


async def test_items_need_ids(repo: ConversationRepository) -> None:
    with pytest.raises(ValueError):
        await repo.create("alice", {}, [{"type": "message", "role": "user", "content": []}])
    conv = await repo.create("alice", {}, [])
    with pytest.raises(ValueError):
        await repo.append_items(conv.id, "alice", [{"type": "message"}])


@pytest.mark.parametrize(
    ("order", "after", "limit", "expected", "has_more"),
    [
        ("desc", None, 2, [4, 3], True),
        ("desc", "msg_3", 2, [2, 1], True),
        ("desc", "msg_1", 2, [0], False),
        ("asc", None, 2, [0, 1], True),
        ("asc", "msg_1", 2, [2, 3], True),
        ("asc", "msg_3", 2, [4], False),
        ("asc", "msg_4", 2, [], False),
        ("desc", None, 20, [4, 3, 2, 1, 0], False),
        ("asc", "msg_unknown", 2, [], False),
    ],
)
async def test_list_items_pages(
    repo: ConversationRepository, order: str, after: str | None, limit: int, expected: list[int], has_more: bool
) -> None:
    conv = await repo.create("alice", {}, [msg("msg_0"), msg("msg_1")])
    await repo.append_items(conv.id, "alice", [msg("msg_2"), msg("msg_3"), msg("msg_4")])
    items, more = await repo.list_items(conv.id, "alice", after=after, limit=limit, order=order)  # type: ignore[arg-type]
    assert ids(items) == [f"msg_{i}" for i in expected]
    assert more is has_more
    assert await repo.list_items(conv.id, "bob", after=after, limit=limit, order=order) == ([], False)  # type: ignore[arg-type]


@pytest.mark.parametrize(("limit", "order"), [(0, "asc"), (5, "sideways")])
async def test_list_items_rejects_bad_arguments(repo: ConversationRepository, limit: int, order: str) -> None:
    conv = await repo.create("alice", {}, [msg("msg_0")])
    with pytest.raises(ValueError):
        await repo.list_items(conv.id, "alice", limit=limit, order=order)  # type: ignore[arg-type]


async def test_concurrent_appends_keep_a_consistent_order(database: Database) -> None:
    other = Database(database.url.render_as_string(hide_password=False))
    await other.start()
    try:
        repos = [ConversationRepository(database), ConversationRepository(other)]
        conv = await repos[0].create("alice", {}, [msg("seed")])

        async def writer(n: int) -> None:
            for batch in range(3):
                items = [msg(f"w{n}_b{batch}_{k}") for k in range(3)]
                assert await repos[n % 2].append_items(conv.id, "alice", items) == items
                await asyncio.sleep(0)

        await asyncio.gather(*(writer(n) for n in range(6)))
    finally:
        await other.aclose()

    stored = ids(await repos[0].all_items(conv.id, "alice"))
    assert stored[0] == "seed"
    assert len(stored) == len(set(stored)) == 1 + 6 * 3 * 3
    for n in range(6):
        mine = [i for i, id_ in enumerate(stored) if id_.startswith(f"w{n}_")]
        assert [stored[i] for i in mine] == [f"w{n}_b{b}_{k}" for b in range(3) for k in range(3)]
        for batch in range(3):  # each append is contiguous
            at = stored.index(f"w{n}_b{batch}_0")
            assert stored[at : at + 3] == [f"w{n}_b{batch}_{k}" for k in range(3)]
    listed, more = await repos[0].list_items(conv.id, "alice", limit=100, order="asc")
    assert (ids(listed), more) == (stored, False)


async def test_items_by_id_across_the_owners_conversations(repo: ConversationRepository) -> None:
    await repo.create("alice", {}, [msg("msg_a1", "one")], created_at=1)
    await repo.create("alice", {}, [msg("msg_a2", "two")], created_at=2)
    await repo.create("bob", {}, [msg("msg_b1")], created_at=3)
    found = await repo.items_by_id(["msg_a1", "msg_a2", "msg_b1", "msg_none"], "alice")
    assert sorted(found) == ["msg_a1", "msg_a2"]
    assert found["msg_a2"]["content"][0]["text"] == "two"
    assert await repo.items_by_id(["msg_a1"], "bob") == {}
    assert await repo.items_by_id([], "alice") == {}
