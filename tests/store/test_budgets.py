"""Budget spend in the database: reservations are all-or-nothing across holders, never
exceed a budget under concurrency, and repeating a reserve or settle changes nothing."""

from __future__ import annotations

import asyncio

from switchyard.store import Database, RequestLog
from switchyard.store.budgets import BudgetRepository, Holder, Spend
from switchyard.store.ledger import LedgerEntry


async def test_reserve_settle_refund(database: Database) -> None:
    repo = BudgetRepository(database)
    key, project = Holder("key:k1", 100), Holder("project:p1", 1000)
    assert await repo.reserve("req_1:1", [key, project], 60)
    assert await repo.reserve("req_1:1", [key, project], 60)  # idempotent: still one reservation
    assert await repo.spend("key:k1") == Spend(0, 60)
    assert not await repo.reserve("req_2:1", [key, project], 41)  # the key's budget cannot take it
    assert await repo.spend("project:p1") == Spend(0, 60)  # ... so neither holder changed
    assert await repo.settle("req_1:1", 25)
    assert not await repo.settle("req_1:1", 25)  # settled once
    assert await repo.spend("key:k1") == Spend(25, 0)
    assert await repo.spend("project:p1") == Spend(25, 0)
    assert await repo.reserve("req_3:1", [key], 75)
    assert await repo.settle("req_3:1", 0)  # a refund
    assert await repo.spend("key:k1") == Spend(25, 0)
    assert not await repo.settle("req_never:1", 5)


async def test_a_new_holder_starts_from_the_ledger(database: Database) -> None:
    await RequestLog(database).record(LedgerEntry(request_id="r", owner_id="p9", key_id="k9", surface="s",
                                                  model="m", outcome="completed", cost_nanousd=40))
    repo = BudgetRepository(database)
    assert await repo.spend("key:k9") == Spend(40, 0)
    assert not await repo.reserve("req_1:1", [Holder("key:k9", 100)], 61)
    assert await repo.reserve("req_1:1", [Holder("key:k9", 100)], 60)


async def test_concurrent_reservations_never_exceed_the_budget(database_url: str) -> None:
    # Several processes' worth of connections: one Database (pool) per "process".
    dbs = [Database(database_url) for _ in range(3)]
    for db in dbs:
        await db.start()
    try:
        repos = [BudgetRepository(db) for db in dbs]
        holder = Holder("project:shared", 1000)
        results = await asyncio.gather(*(repos[n % 3].reserve(f"req_{n}:1", [holder], 150) for n in range(20)))
        assert sum(results) == 6
        assert await repos[0].spend("project:shared") == Spend(0, 900)
    finally:
        for db in dbs:
            await db.aclose()


async def test_stale_reservations_are_listed(database: Database) -> None:
    from datetime import UTC, datetime, timedelta

    repo = BudgetRepository(database)
    assert await repo.reserve("req_1:1", [Holder("project:p", 100)], 30)
    assert await repo.reserve("req_2:1", [Holder("project:p", 100)], 20)
    assert await repo.settle("req_2:1", 5)
    assert await repo.stale(datetime.now(UTC) - timedelta(minutes=1)) == []
    assert await repo.stale(datetime.now(UTC) + timedelta(minutes=1)) == [("req_1:1", 30)]
