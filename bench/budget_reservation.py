"""Cost of one budget reservation (on the request's path) and its settle (off it), per
store: the database path (SQLite, PostgreSQL: what every budgeted call paid before), this
process's memory and Redis (the real server, one Lua script). Two holders (key and
project), sequential calls.

    python -m bench.budget_reservation [--calls 2000] [--redis redis://127.0.0.1:6379/13]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

from switchyard.gateway.budget_store import BudgetStore
from switchyard.gateway.budgets_memory import MemoryBudgetStore
from switchyard.gateway.budgets_redis import RedisBudgetStore
from switchyard.store.budgets import BudgetRepository, Holder
from switchyard.store.database import Database

HOLDERS = [Holder("key:bench", 10**15), Holder("project:bench", 10**15)]


async def measure(store: BudgetStore, calls: int) -> tuple[list[float], list[float]]:
    reserve: list[float] = []
    settle: list[float] = []
    for n in range(calls):
        started = time.perf_counter()
        assert await store.reserve(f"req_{n}:1", HOLDERS, 1000)
        reserved = time.perf_counter()
        await store.settle_many([(f"req_{n}:1", 700)])
        reserve.append(reserved - started)
        settle.append(time.perf_counter() - reserved)
    return sorted(reserve), sorted(settle)


def _us(times: list[float], q: float) -> float:
    return times[min(len(times) - 1, int(len(times) * q))] * 1e6


async def run(name: str, store: BudgetStore, calls: int) -> None:
    await store.reserve("warm:1", HOLDERS, 1)  # loads the holders
    reserve, settle = await measure(store, calls)
    print(f"{name:17} reserve p50 {statistics.median(reserve) * 1e6:8.1f} us  p99 {_us(reserve, 0.99):8.1f} us"
          f"   settle p50 {statistics.median(settle) * 1e6:8.1f} us")
    await store.aclose()


@contextlib.asynccontextmanager
async def started(url: str) -> AsyncIterator[Database]:
    db = Database(url)
    await db.start()
    try:
        yield db
    finally:
        await db.aclose()


@contextlib.asynccontextmanager
async def fresh_postgres(admin_url: str) -> AsyncIterator[str]:
    name = f"sy_bench_{secrets.token_hex(6)}"
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        async with started(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}") as db:
            await run("database sqlite", BudgetRepository(db), args.calls)
        async with started(f"sqlite+aiosqlite:///{Path(tmp) / 'bench2.db'}") as db:
            await run("memory", MemoryBudgetStore(BudgetRepository(db)), args.calls)
            await run("redis", RedisBudgetStore(args.redis, BudgetRepository(db),
                                                prefix=f"bench:{secrets.token_hex(4)}:", ttl_seconds=3600),
                      args.calls)
    if args.postgres:
        async with fresh_postgres(args.postgres) as url, started(url) as db:
            await run("database postgres", BudgetRepository(db), args.calls)


if __name__ == "__main__":
    asyncio.run(main())
