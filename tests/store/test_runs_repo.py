"""RunRepository on SQLite and PostgreSQL: tenancy, cursor pages both ways, the claim
(queued, lapsed leases, overdue requires_action), leases held by one worker, and steps
stored in order and replaced in place."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from switchyard.store import Database
from switchyard.store.models import utcnow
from switchyard.store.runs import RunRepository


def run_body(run_id: str, thread: str = "thread_1", status: str = "queued") -> dict[str, Any]:
    return {"id": run_id, "object": "thread.run", "thread_id": thread, "assistant_id": "asst_1", "status": status,
            "expires_at": None, "metadata": {}}


def step_body(step_id: str, run_id: str, status: str = "in_progress") -> dict[str, Any]:
    return {"id": step_id, "object": "thread.run.step", "run_id": run_id, "thread_id": "thread_1",
            "status": status, "type": "tool_calls", "step_details": {"type": "tool_calls", "tool_calls": []}}


async def test_owner_and_thread_scope_reads(database: Database) -> None:
    repo = RunRepository(database)
    await repo.create(owner_id="alice", body=run_body("run_a"), request={})
    assert (await repo.get("run_a", "thread_1", "alice")) is not None
    assert await repo.get("run_a", "thread_1", "bob") is None
    assert await repo.get("run_a", "thread_2", "alice") is None
    assert (await repo.active_in_thread("thread_1", "alice")) is not None
    assert await repo.active_in_thread("thread_1", "bob") is None


async def test_pages_both_ways(database: Database) -> None:
    repo = RunRepository(database)
    ids = [f"run_{n}" for n in range(5)]
    for run_id in ids:
        await repo.create(owner_id="alice", body=run_body(run_id), request={})
    await repo.create(owner_id="bob", body=run_body("run_bob"), request={})

    async def page(**kw: Any) -> tuple[list[str], bool]:
        records, more = await repo.list("thread_1", "alice", **{"limit": 2, "order": "desc", "after": None,
                                                                "before": None, **kw})
        return [r.id for r in records], more

    assert await page() == (["run_4", "run_3"], True)
    assert await page(after="run_3") == (["run_2", "run_1"], True)
    assert await page(after="run_1") == (["run_0"], False)
    assert await page(order="asc") == (["run_0", "run_1"], True)
    assert await page(order="asc", after="run_3") == (["run_4"], False)
    assert await page(before="run_1") == (["run_3", "run_2"], True)  # the nearest newer ones, newest first
    assert await page(order="asc", before="run_3") == (["run_1", "run_2"], True)
    assert await page(after="run_bob") == ([], False)


async def test_claim_lease_and_overdue_waits(database: Database) -> None:
    repo = RunRepository(database)
    await repo.create(owner_id="alice", body=run_body("run_held"), request={}, worker_id="w_stream",
                      lease_seconds=30)
    await repo.create(owner_id="alice", body=run_body("run_q", thread="thread_2"), request={})
    claimed = await repo.claim_next("w1", 30)
    assert claimed is not None and claimed.id == "run_q" and claimed.attempts == 1
    assert await repo.claim_next("w2", 30) is None  # both held
    assert not await repo.save("run_q", body=run_body("run_q", thread="thread_2", status="in_progress"),
                               worker_id="w2")
    assert await repo.save("run_q", body=run_body("run_q", thread="thread_2", status="in_progress"), worker_id="w1")
    assert await repo.claim_next("w2", 30, now=utcnow() + timedelta(seconds=31)) is not None  # the lease lapsed

    waiting = {**run_body("run_w", thread="thread_3", status="requires_action"), "expires_at": int(time.time()) + 60}
    await repo.create(owner_id="alice", body=run_body("run_w", thread="thread_3"), request={})
    await repo.save("run_w", body=waiting, release=True)
    assert (await repo.current("run_w")).expires_at == waiting["expires_at"]  # type: ignore[union-attr]
    assert await repo.claim_next("w3", 30) is None
    overdue = await repo.claim_next("w3", 30, now_s=int(time.time()) + 61)
    assert overdue is not None and overdue.id == "run_w"
    assert not await repo.hold("run_w", "w4", 30)
    await repo.release("run_w", "w3")
    assert await repo.hold("run_w", "w4", 30)


async def test_steps_in_order_replaced_in_place(database: Database) -> None:
    repo = RunRepository(database)
    await repo.create(owner_id="alice", body=run_body("run_s"), request={})
    await repo.put_steps([step_body("step_1", "run_s"), step_body("step_2", "run_s")], "alice")
    await repo.put_steps([step_body("step_1", "run_s", status="completed")], "alice")
    steps = await repo.steps("run_s")
    assert [(s["id"], s["status"]) for s in steps] == [("step_1", "completed"), ("step_2", "in_progress")]
    page, more = await repo.list_steps("run_s", limit=1, order="asc", after=None, before=None)
    assert [s["id"] for s in page] == ["step_1"] and more
    assert await repo.get_step("step_1", "run_s", "thread_1", "bob") is None
    assert (await repo.get_step("step_2", "run_s", "thread_1", "alice"))["status"] == "in_progress"  # type: ignore
    await repo.request_cancel("run_s")
    assert await repo.is_cancel_requested("run_s")


async def test_take_and_open_runs_for_a_queue_runner(database: Database) -> None:
    repo = RunRepository(database)
    await repo.create(owner_id="alice", body=run_body("run_open"), request={})
    await repo.create(owner_id="alice", body=run_body("run_done", thread="thread_2"), request={})
    await repo.save("run_done", body=run_body("run_done", thread="thread_2", status="completed"))
    waiting = {**run_body("run_wait", thread="thread_3", status="requires_action"), "expires_at": int(time.time()) + 60}
    await repo.create(owner_id="alice", body=run_body("run_wait", thread="thread_3"), request={})
    await repo.save("run_wait", body=waiting)
    assert await repo.open_ids() == ["run_open"]  # not the finished one, nor one waiting in time
    assert await repo.needs_work("run_open") and not await repo.needs_work("run_done")
    assert not await repo.needs_work("run_wait")
    taken = await repo.take("run_open", "w1", 30)
    assert taken is not None and taken.id == "run_open"
    assert await repo.take("run_open", "w2", 30) is None  # leased to a live worker
    assert await repo.needs_work("run_open")  # still open: the queue retries it later
    assert await repo.take("run_done", "w2", 30) is None
