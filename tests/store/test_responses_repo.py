from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from switchyard.store import Database
from switchyard.store.models import utcnow
from switchyard.store.response_events import ResponseEventLog
from switchyard.store.responses import ResponseRecord, ResponseRepository


def msg(id_: str, text_: str = "hi", role: str = "user") -> dict[str, Any]:
    part = "input_text" if role == "user" else "output_text"
    return {"type": "message", "id": id_, "role": role, "content": [{"type": part, "text": text_}]}


async def make(
    repo: ResponseRepository,
    id_: str,
    *,
    owner: str = "alice",
    prev: str | None = None,
    items: list[dict[str, Any]] | None = None,
    status: str = "completed",
    background: bool = False,
    created_at: int = 1_700_000_000,
) -> ResponseRecord:
    return await repo.create(
        id=id_,
        owner_id=owner,
        model="gpt-test",
        status=status,
        body={"id": id_, "object": "response", "status": status},
        request={"model": "gpt-test", "input": id_},
        input_items=[msg(f"in_{id_}")] if items is None else items,
        previous_response_id=prev,
        conversation_id=None,
        background=background,
        created_at=created_at,
    )


@pytest.fixture
def repo(database: Database) -> ResponseRepository:
    return ResponseRepository(database)


async def _count(db: Database, table: str, response_id: str) -> int:
    async with db.session() as session:
        query = text(f"SELECT count(*) FROM {table} WHERE response_id = :id")
        return int(await session.scalar(query, {"id": response_id}) or 0)


async def test_create_and_get(repo: ResponseRepository) -> None:
    created = await repo.create(
        id="resp_1",
        owner_id="alice",
        model="gpt-test",
        status="in_progress",
        body={"id": "resp_1", "status": "in_progress", "text": "nul \u0000 and ünïcode"},
        request={"model": "gpt-test", "tools": []},
        input_items=[msg("msg_a")],
        previous_response_id="resp_0",
        conversation_id="conv_1",
        background=True,
        created_at=1_700_000_123,
    )
    got = await repo.get("resp_1", "alice")
    assert got == created
    assert got is not None
    assert (got.owner_id, got.model, got.status, got.created_at) == ("alice", "gpt-test", "in_progress", 1_700_000_123)
    assert got.body["text"] == "nul \u0000 and ünïcode"
    assert (got.previous_response_id, got.conversation_id, got.background) == ("resp_0", "conv_1", True)
    assert (got.completed_at, got.attempts, got.worker_id, got.lease_until, got.cancel_requested) == (
        None,
        0,
        None,
        None,
        False,
    )
    assert await repo.get("resp_1", "bob") is None
    assert await repo.get("resp_missing", "alice") is None


async def test_create_is_one_transaction(repo: ResponseRepository) -> None:
    with pytest.raises(Exception):  # noqa: B017 - whichever error the driver raises for an unserialisable item
        await make(repo, "resp_bad", items=[msg("msg_ok"), {"id": "msg_bad", "x": object()}])
    assert await repo.get("resp_bad", "alice") is None


async def test_items_need_ids(repo: ResponseRepository) -> None:
    with pytest.raises(ValueError):
        await make(repo, "resp_noid", items=[{"type": "message", "role": "user", "content": []}])
    assert await repo.get("resp_noid", "alice") is None


async def test_delete_is_owner_scoped_and_removes_items_and_events(
    repo: ResponseRepository, database: Database
) -> None:
    await make(repo, "resp_1", items=[msg("a"), msg("b")])
    await repo.save_output(
        "resp_1", status="completed", body={}, output_items=[msg("o", role="assistant")], completed_at=1
    )
    await ResponseEventLog(database).append("resp_1", [{"type": "x", "sequence_number": 0}])

    assert await repo.delete("resp_1", "bob") is False
    assert await repo.get("resp_1", "alice") is not None

    assert await repo.delete("resp_1", "alice") is True
    assert await repo.get("resp_1", "alice") is None
    assert await _count(database, "response_items", "resp_1") == 0
    assert await _count(database, "response_events", "resp_1") == 0
    assert await repo.delete("resp_1", "alice") is False


ITEMS = [msg(f"msg_{i}") for i in range(5)]


@pytest.mark.parametrize(
    ("order", "after", "limit", "expected", "has_more"),
    [
        ("desc", None, 2, [4, 3], True),
        ("desc", "msg_3", 2, [2, 1], True),
        ("desc", "msg_1", 2, [0], False),
        ("desc", "msg_0", 2, [], False),
        ("asc", None, 2, [0, 1], True),
        ("asc", "msg_1", 2, [2, 3], True),
        ("asc", "msg_3", 2, [4], False),
        ("asc", None, 5, [0, 1, 2, 3, 4], False),
        ("asc", None, 100, [0, 1, 2, 3, 4], False),
        ("asc", "msg_unknown", 2, [], False),
    ],
)
async def test_input_items_pages(
    repo: ResponseRepository, order: str, after: str | None, limit: int, expected: list[int], has_more: bool
) -> None:
    await make(repo, "resp_1", items=ITEMS)
    await repo.save_output(
        "resp_1", status="completed", body={}, output_items=[msg("out", role="assistant")], completed_at=1
    )
    items, more = await repo.input_items("resp_1", "alice", after=after, limit=limit, order=order)  # type: ignore[arg-type]
    assert [item["id"] for item in items] == [f"msg_{i}" for i in expected]
    assert items == [ITEMS[i] for i in expected]
    assert more is has_more


async def test_input_items_default_order_is_desc_and_owner_scoped(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", items=ITEMS)
    items, more = await repo.input_items("resp_1", "alice")
    assert [item["id"] for item in items] == ["msg_4", "msg_3", "msg_2", "msg_1", "msg_0"]
    assert more is False
    assert await repo.input_items("resp_1", "bob") == ([], False)
    assert await repo.input_items("resp_1", "bob", after="msg_3", order="asc") == ([], False)


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


async def _turn(repo: ResponseRepository, id_: str, prev: str | None, owner: str = "alice") -> None:
    await make(repo, id_, prev=prev, owner=owner, items=[msg(f"in_{id_}"), msg(f"in2_{id_}")])
    await repo.save_output(
        id_, status="completed", body={"id": id_}, output_items=[msg(f"out_{id_}", role="assistant")], completed_at=2
    )


async def test_items_for_context_over_a_long_chain(repo: ResponseRepository) -> None:
    prev = None
    for i in range(60):
        await _turn(repo, f"resp_{i}", prev)
        prev = f"resp_{i}"

    def expected(last: int) -> list[str]:
        return [x for i in range(last + 1) for x in (f"in_resp_{i}", f"in2_resp_{i}", f"out_resp_{i}")]

    assert _ids(await repo.items_for_context("resp_59", "alice")) == expected(59)
    assert _ids(await repo.items_for_context("resp_30", "alice")) == expected(30)
    assert _ids(await repo.items_for_context("resp_0", "alice")) == expected(0)
    assert await repo.items_for_context("resp_59", "bob") == []
    assert await repo.items_for_context("resp_missing", "alice") == []


async def test_items_for_context_over_a_fork(repo: ResponseRepository) -> None:
    await _turn(repo, "root", None)
    await _turn(repo, "left", "root")
    await _turn(repo, "right", "root")
    await _turn(repo, "left2", "left")
    root = ["in_root", "in2_root", "out_root"]
    assert _ids(await repo.items_for_context("left2", "alice")) == [
        *root,
        "in_left",
        "in2_left",
        "out_left",
        "in_left2",
        "in2_left2",
        "out_left2",
    ]
    assert _ids(await repo.items_for_context("right", "alice")) == [*root, "in_right", "in2_right", "out_right"]


async def test_items_for_context_stops_at_a_deleted_or_foreign_link(repo: ResponseRepository) -> None:
    await _turn(repo, "r0", None)
    await _turn(repo, "r1", "r0")
    await _turn(repo, "r2", "r1")
    await _turn(repo, "b1", "r0", owner="bob")  # a link into another owner's chain is not followed
    assert await repo.delete("r1", "alice")
    assert _ids(await repo.items_for_context("r2", "alice")) == ["in_r2", "in2_r2", "out_r2"]
    assert _ids(await repo.items_for_context("b1", "bob")) == ["in_b1", "in2_b1", "out_b1"]


async def test_items_by_id_are_owner_scoped_and_prefer_the_made_copy(repo: ResponseRepository) -> None:
    await repo.create(id="r_a", owner_id="alice", model="m", status="completed", body={}, request={},
                      input_items=[msg("in_a")], previous_response_id=None, conversation_id=None,
                      background=False, created_at=1, output_items=[msg("out_a", "made", "assistant")])
    # a later response that was given out_a back as input, edited by the client
    await make(repo, "r_b", items=[msg("out_a", "edited", "assistant")], created_at=2)
    await make(repo, "r_bob", owner="bob", items=[msg("in_bob")])
    found = await repo.items_by_id(["in_a", "out_a", "in_bob", "nothing"], "alice")
    assert sorted(found) == ["in_a", "out_a"]
    assert found["out_a"]["content"][0]["text"] == "made"
    assert await repo.items_by_id(["in_a"], "bob") == {}
    assert await repo.items_by_id([], "alice") == {}


async def test_save_output_replaces_outputs(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", status="in_progress")
    assert await repo.save_output(
        "resp_1",
        status="in_progress",
        body={"v": 1},
        output_items=[msg("o1", role="assistant"), msg("o2", role="assistant")],
        completed_at=None,
    )
    assert await repo.save_output(
        "resp_1",
        status="completed",
        body={"v": 2},
        output_items=[msg("o3", role="assistant")],
        completed_at=1_700_000_500,
    )
    got = await repo.get("resp_1", "alice")
    assert got is not None
    assert (got.status, got.body, got.completed_at) == ("completed", {"v": 2}, 1_700_000_500)
    assert _ids(await repo.items_for_context("resp_1", "alice")) == ["in_resp_1", "o3"]
    assert _ids((await repo.input_items("resp_1", "alice"))[0]) == ["in_resp_1"]


async def test_save_output_is_atomic(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", status="in_progress")
    await repo.save_output(
        "resp_1", status="in_progress", body={"v": 1}, output_items=[msg("o1", role="assistant")], completed_at=None
    )
    with pytest.raises(Exception):  # noqa: B017 - whichever error the driver raises for an unserialisable item
        await repo.save_output(
            "resp_1",
            status="completed",
            body={"v": 2},
            output_items=[msg("o2", role="assistant"), {"id": "bad", "x": object()}],
            completed_at=5,
        )
    got = await repo.get("resp_1", "alice")
    assert got is not None
    assert (got.status, got.body, got.completed_at) == ("in_progress", {"v": 1}, None)
    assert _ids(await repo.items_for_context("resp_1", "alice")) == ["in_resp_1", "o1"]


async def test_save_output_and_update_status_of_a_missing_response(repo: ResponseRepository) -> None:
    assert (
        await repo.save_output("resp_gone", status="completed", body={}, output_items=[msg("o")], completed_at=1)
        is False
    )
    assert await repo.update_status("resp_gone", "failed", {}) is False


async def test_update_status(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", status="queued")
    assert await repo.update_status("resp_1", "in_progress", {"status": "in_progress"}) is True
    got = await repo.get("resp_1", "alice")
    assert got is not None
    assert (got.status, got.body) == ("in_progress", {"status": "in_progress"})


async def test_update_status_from_a_given_status(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", status="queued", background=True)
    assert await repo.claim_next("w1", 60) is not None
    assert await repo.update_status("resp_1", "cancelled", {"status": "cancelled"}, from_status="queued") is False
    got = await repo.get("resp_1", "alice")
    assert got is not None
    assert got.status == "in_progress"
    assert await repo.update_status("resp_1", "cancelled", {"status": "cancelled"}, from_status="in_progress")
    got = await repo.get("resp_1", "alice")
    assert got is not None
    assert (got.status, got.body) == ("cancelled", {"status": "cancelled"})


# Background runs


async def _drain(repo: ResponseRepository, worker: str) -> list[str]:
    claimed = []
    while (record := await repo.claim_next(worker, 60)) is not None:
        claimed.append(record.id)
        await asyncio.sleep(0)
    return claimed


async def test_concurrent_claimers_never_share_a_response(database: Database) -> None:
    repo = ResponseRepository(database)
    for i in range(20):
        await make(repo, f"resp_{i:02}", status="queued", background=True, created_at=1_700_000_000 + i)
    await make(repo, "resp_foreground", status="queued", background=False)
    await make(repo, "resp_done", status="completed", background=True)

    other = Database(str(database.url.render_as_string(hide_password=False)))
    await other.start()
    try:
        repos = [repo, ResponseRepository(other)]
        results = await asyncio.gather(*(_drain(repos[i % 2], f"worker-{i}") for i in range(4)))
    finally:
        await other.aclose()

    claimed = [id_ for result in results for id_ in result]
    assert sorted(claimed) == [f"resp_{i:02}" for i in range(20)]  # each exactly once
    for i, result in enumerate(results):
        for id_ in result:
            record = await repo.get(id_, "alice")
            assert record is not None
            assert (record.status, record.worker_id, record.attempts) == ("in_progress", f"worker-{i}", 1)
            assert record.body["status"] == "in_progress"
    for id_, status in (("resp_foreground", "queued"), ("resp_done", "completed")):
        record = await repo.get(id_, "alice")
        assert record is not None
        assert (record.status, record.attempts) == (status, 0)


async def test_claim_takes_the_oldest_first(repo: ResponseRepository) -> None:
    await make(repo, "resp_new", status="queued", background=True, created_at=20)
    await make(repo, "resp_old", status="queued", background=True, created_at=10)
    first = await repo.claim_next("w", 60)
    assert first is not None
    assert first.id == "resp_old"


async def test_expired_lease_is_claimed_again(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", status="queued", background=True)
    t0 = utcnow()
    first = await repo.claim_next("w1", 30, now=t0)
    assert first is not None
    assert (first.worker_id, first.attempts, first.status) == ("w1", 1, "in_progress")
    assert first.lease_until == t0 + timedelta(seconds=30)

    assert await repo.claim_next("w2", 30, now=t0 + timedelta(seconds=10)) is None
    assert await repo.expired_in_progress(t0 + timedelta(seconds=10)) == []
    assert await repo.renew_lease("resp_1", "w1", 30, now=t0 + timedelta(seconds=10)) is True
    assert await repo.claim_next("w2", 30, now=t0 + timedelta(seconds=35)) is None  # renewed to t0+40

    late = t0 + timedelta(seconds=41)
    assert [r.id for r in await repo.expired_in_progress(late)] == ["resp_1"]
    again = await repo.claim_next("w2", 30, now=late)
    assert again is not None
    assert (again.id, again.worker_id, again.attempts) == ("resp_1", "w2", 2)
    assert await repo.renew_lease("resp_1", "w1", 30, now=late) is False  # w1 lost it
    assert await repo.renew_lease("resp_1", "w2", 30, now=late) is True

    await repo.save_output("resp_1", status="completed", body={}, output_items=[], completed_at=1)
    assert await repo.renew_lease("resp_1", "w2", 30) is False
    assert await repo.claim_next("w3", 30, now=late + timedelta(days=1)) is None
    assert await repo.expired_in_progress(late + timedelta(days=1)) == []


async def test_cancel_flag(repo: ResponseRepository) -> None:
    await make(repo, "resp_1", status="in_progress", background=True)
    await make(repo, "resp_done", status="completed", background=True)
    assert await repo.is_cancel_requested("resp_1") is False

    assert await repo.request_cancel("resp_1", "bob") is None
    assert await repo.is_cancel_requested("resp_1") is False

    record = await repo.request_cancel("resp_1", "alice")
    assert record is not None
    assert (record.id, record.cancel_requested) == ("resp_1", True)
    assert await repo.is_cancel_requested("resp_1") is True

    done = await repo.request_cancel("resp_done", "alice")
    assert done is not None
    assert (done.status, done.cancel_requested) == ("completed", False)
    assert await repo.request_cancel("resp_missing", "alice") is None
    assert await repo.is_cancel_requested("resp_missing") is False
