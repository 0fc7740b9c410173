"""The budget stores off the database's request path: in this process's memory and in
Redis (the real server on 127.0.0.1:6379). Both reserve all-or-nothing, hold a budget
exactly under concurrency, repeat nothing, and keep the spend durable in the database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from switchyard.config import MeteringConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.auth import Principal
from switchyard.gateway.budget_store import BudgetStore
from switchyard.gateway.budgets import Budgets
from switchyard.gateway.budgets_memory import MemoryBudgetStore
from switchyard.gateway.budgets_redis import RedisBudgetStore
from switchyard.store import Database, RequestLog
from switchyard.store.budgets import BudgetRepository, Holder, Spend
from switchyard.store.ledger import LedgerEntry

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"test:budget:{secrets.token_hex(6)}:"
    yield prefix
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


StoreMaker = Callable[[Database], BudgetStore]


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest, prefix: str) -> StoreMaker:
    if request.param == "memory":
        return lambda db: MemoryBudgetStore(BudgetRepository(db))
    return lambda db: RedisBudgetStore(REDIS_URL, BudgetRepository(db), prefix=prefix, ttl_seconds=3600)


@pytest.fixture(params=["memory", "redis", "database"])
def any_store(request: pytest.FixtureRequest, prefix: str) -> StoreMaker:
    """Every budget store, the database's own included."""
    if request.param == "database":
        return BudgetRepository
    if request.param == "memory":
        return lambda db: MemoryBudgetStore(BudgetRepository(db))
    return lambda db: RedisBudgetStore(REDIS_URL, BudgetRepository(db), prefix=prefix, ttl_seconds=3600)


async def test_reserve_settle_refund(database: Database, make_store: StoreMaker) -> None:
    store = make_store(database)
    key, project = Holder("key:k1", 100), Holder("project:p1", 1000)
    try:
        assert await store.reserve("req_1:1", [key, project], 60)
        assert await store.reserve("req_1:1", [key, project], 60)  # idempotent: still one reservation
        assert await store.spend("key:k1") == Spend(0, 60)
        assert not await store.reserve("req_2:1", [key, project], 41)  # the key's budget cannot take it
        assert await store.spend("project:p1") == Spend(0, 60)  # ... so neither holder changed
        assert await store.settle_many([("req_1:1", 25)]) == 1
        assert await store.settle_many([("req_1:1", 25)]) == 0  # settled once
        assert await store.reserve("req_1:1", [key, project], 60)  # a settled id is not reserved again
        assert await store.spend("key:k1") == Spend(25, 0)
        assert await store.spend("project:p1") == Spend(25, 0)
        assert await store.reserve("req_3:1", [key], 75)
        assert await store.settle_many([("req_3:1", 0)]) == 1  # a refund
        assert await store.spend("key:k1") == Spend(25, 0)
        assert await store.settle_many([("req_never:1", 5)]) == 0
    finally:
        await store.aclose()
    assert await BudgetRepository(database).durable_spend("key:k1") == 25  # written at close


async def test_twenty_concurrent_reservations_hold_the_budget_exactly(database: Database,
                                                                      make_store: StoreMaker) -> None:
    await RequestLog(database).record(LedgerEntry(request_id="r", owner_id="p", surface="s", model="m",
                                                  outcome="completed", cost_nanousd=100))
    store = make_store(database)
    try:
        holder = Holder("project:p", 1000)  # 100 already spent (the ledger): six of 150 fit
        results = await asyncio.gather(*(store.reserve(f"req_{n}:1", [holder], 150) for n in range(20)))
        assert sum(results) == 6
        assert await store.spend("project:p") == Spend(100, 900)
    finally:
        await store.aclose()


async def test_spend_survives_a_restart_and_a_crash_keeps_the_ledger(database: Database,
                                                                      make_store: StoreMaker) -> None:
    holder = Holder("key:k", 1000)
    first = make_store(database)
    assert await first.reserve("req_1:1", [holder], 400)
    assert await first.settle_many([("req_1:1", 300)]) == 1
    await first.aclose()  # a clean shutdown writes the spend
    assert await BudgetRepository(database).durable_spend("key:k") == 300
    if isinstance(first, RedisBudgetStore):
        await _forget_redis(first)  # Redis restarted too: the holder is loaded from the database

    second = make_store(database)
    try:
        assert await second.spend("key:k") == Spend(300, 0)
        assert not await second.reserve("req_2:1", [holder], 701)
        assert await second.reserve("req_2:1", [holder], 700)
        assert await second.settle_many([("req_2:1", 100)]) == 1
        # the process dies here: its spend is not written, its ledger row (same batch) was
        await RequestLog(database).record(LedgerEntry(request_id="req_2", owner_id="p", key_id="k", surface="s",
                                                      model="m", outcome="completed", cost_nanousd=400))
    finally:
        if isinstance(second, RedisBudgetStore):
            await _forget_redis(second)
    third = make_store(database)
    try:
        # 300 written spend; the ledger holds 400 for the key: the larger counts
        assert await third.spend("key:k") == Spend(400, 0)
        assert not await third.reserve("req_3:1", [holder], 601)
    finally:
        await third.aclose()


async def _forget_redis(store: RedisBudgetStore) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(store._prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_redis_holds_a_budget_across_processes(database_url: str, prefix: str) -> None:
    # Two "processes": each its own database pool and Redis connection.
    dbs = [Database(database_url) for _ in range(2)]
    for db in dbs:
        await db.start()
    stores = [RedisBudgetStore(REDIS_URL, BudgetRepository(db), prefix=prefix, ttl_seconds=3600) for db in dbs]
    try:
        holder = Holder("project:shared", 1000)
        results = await asyncio.gather(*(stores[n % 2].reserve(f"req_{n}:1", [holder], 150) for n in range(20)))
        assert sum(results) == 6
        held = [f"req_{n}:1" for n, ok in enumerate(results) if ok]
        for n, reservation in enumerate(held):
            assert await stores[int(reservation[4:-2]) % 2].settle_many([(reservation, 100 + n)]) == 1
        assert await stores[0].spend("project:shared") == Spend(sum(100 + n for n in range(6)), 0)
    finally:
        for store in stores:
            await store.aclose()
        for db in dbs:
            await db.aclose()
    fresh = Database(database_url)
    await fresh.start()
    try:
        assert await BudgetRepository(fresh).durable_spend("project:shared") == 615  # the larger write won
    finally:
        await fresh.aclose()


async def test_a_dead_process_reservation_expires_spent_as_reserved(database: Database, prefix: str) -> None:
    dead = RedisBudgetStore(REDIS_URL, BudgetRepository(database), prefix=prefix, ttl_seconds=0.2)
    live = RedisBudgetStore(REDIS_URL, BudgetRepository(database), prefix=prefix, ttl_seconds=0.2)
    holder = Holder("project:p", 1000)
    try:
        assert await dead.reserve("req_dead:1", [holder], 600)
        assert not await live.reserve("req_2:1", [holder], 500)
        await asyncio.sleep(0.3)
        # its time is up: spent as reserved (the worst case), no longer held
        assert await live.reserve("req_3:1", [holder], 400)
        assert await live.spend("project:p") == Spend(600, 400)
    finally:
        await dead.aclose()
        await live.aclose()


async def test_an_unreachable_redis_refuses_budgeted_calls_with_a_503(database: Database, prefix: str) -> None:
    store = RedisBudgetStore("redis://127.0.0.1:1/0", BudgetRepository(database), prefix=prefix, ttl_seconds=60)
    try:
        with pytest.raises(SwitchyardError) as raised:
            await store.reserve("req_1:1", [Holder("project:p", 1000)], 10)
        assert raised.value.kind is ErrorKind.OVERLOADED and "Redis, is unreachable" in raised.value.message
    finally:
        await store.aclose()


async def test_a_redis_client_shared_with_the_app_is_left_open(database: Database, prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        store = RedisBudgetStore(client, BudgetRepository(database), prefix=prefix, ttl_seconds=60)
        assert await store.reserve("req_1:1", [Holder("project:p", 100)], 10)
        await store.aclose()
        assert await client.hget(f"{prefix}h:project:p", "reserved") == b"10"  # still usable
    finally:
        await client.aclose()


async def test_a_monthly_budget_starts_again_each_month(database: Database, any_store: StoreMaker) -> None:
    ledger = RequestLog(database)
    for cost, moment in ((500, datetime(2026, 10, 31, 23, 0, tzinfo=UTC)),
                         (700, datetime(2026, 11, 1, 0, 0, tzinfo=UTC))):
        await ledger.record(LedgerEntry(request_id=f"r{cost}", owner_id="pm", key_id="km", surface="s", model="m",
                                        outcome="completed", cost_nanousd=cost, created_at=moment))
    now = [datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)]
    store = any_store(database)
    budgets = Budgets(store, MeteringConfig(), clock=lambda: now[0])
    caller = Principal(owner_id="pm", key_id="km", key_budget_usd=Decimal("0.000001"), key_budget_interval="month")
    try:
        november = budgets.holders(caller)
        assert november == [Holder("key:km@2026-11", 1000)]  # 1,000 nano-USD a month
        assert not await store.reserve("c1", november, 301)  # November's 700 are in the ledger; October's are not
        assert await store.reserve("c1", november, 300)
        now[0] = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
        december = budgets.holders(caller)
        assert december == [Holder("key:km@2026-12", 1000)]
        assert await store.reserve("c2", december, 1000)  # a new month starts from nothing
        assert await store.settle_many([("c1", 250)]) == 1  # reserved in November: settles there
        assert await store.spend("key:km@2026-11") == Spend(950, 0)
        assert await store.spend("key:km@2026-12") == Spend(0, 1000)
        lifetime = Principal(owner_id="pm", key_id="km", key_budget_usd=Decimal("0.000001"),
                             key_budget_interval="total")
        assert budgets.holders(lifetime) == [Holder("key:km", 1000)]
    finally:
        await store.aclose()


async def test_a_daily_budget_starts_again_each_day_utc(database: Database, any_store: StoreMaker) -> None:
    ledger = RequestLog(database)
    for cost, moment in ((400, datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC)),
                         (600, datetime(2026, 11, 30, 0, 0, tzinfo=UTC))):
        await ledger.record(LedgerEntry(request_id=f"d{cost}", owner_id="pd", key_id="kd", surface="s", model="m",
                                        outcome="completed", cost_nanousd=cost, created_at=moment))
    # 23:30 in New York on the 30th is already the 1st of December in UTC
    now = [datetime(2026, 11, 30, 18, 30, tzinfo=timezone(timedelta(hours=-5)))]
    store = any_store(database)
    budgets = Budgets(store, MeteringConfig(), clock=lambda: now[0])
    caller = Principal(owner_id="pd", key_id="kd", project_budget_usd=Decimal("0.000001"),
                       project_budget_interval="day")
    try:
        assert budgets.holders(caller) == [Holder("project:pd@2026-11-30", 1000)]
        assert budgets.period("day") == "2026-11-30" and budgets.period("total") is None
        assert not await store.reserve("e1", budgets.holders(caller), 401)  # the 30th's 600 count, the 29th's not
        assert await store.reserve("e1", budgets.holders(caller), 400)
        assert await store.settle_many([("e1", 400)]) == 1
        assert not await store.reserve("e2", budgets.holders(caller), 1)  # the day's budget is spent
        now[0] = datetime(2026, 11, 30, 19, 0, tzinfo=timezone(timedelta(hours=-5)))  # 00:00 UTC on the 1st
        december = budgets.holders(caller)
        assert december == [Holder("project:pd@2026-12-01", 1000)]
        assert await store.reserve("e2", december, 1000)  # a new day starts from nothing
        assert await store.spend("project:pd@2026-11-30") == Spend(1000, 0)
        assert await store.spend("project:pd@2026-12-01") == Spend(0, 1000)
    finally:
        await store.aclose()
