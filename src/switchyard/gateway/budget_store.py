"""Where budget reservations are kept, chosen once at start (``metering.budget_store``):

- ``memory``: this process's memory, exact for one process; spend written to the database
  with the ledger's batches;
- ``redis``: Redis, exact for any number of processes sharing it (one Lua script per
  reservation); spend written to the database in the background;
- ``database``: the database itself, exact for any number of processes sharing it, at a
  few database round trips per reservation.

``auto`` (the default) is ``redis`` when ``redis_url`` is set, else ``database`` on
PostgreSQL (a database that several processes may share), else ``memory`` (SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from switchyard.store.budgets import BudgetRepository, Holder, Spend
from switchyard.store.database import Database

if TYPE_CHECKING:
    import redis.asyncio as aioredis


class BudgetStore(Protocol):
    async def reserve(self, reservation_id: str, holders: Sequence[Holder], amount: int) -> bool:
        """Reserve ``amount`` against every holder or none; True when reserved now or
        already under this id."""
        ...

    async def settle_many(self, settlements: Sequence[tuple[str, int]]) -> int:
        """Turn reservations into actual spend (0 refunds); how many were still held."""
        ...

    async def spend(self, holder: str) -> Spend: ...

    async def sweep(self, before: datetime) -> None:
        """Spend as reserved the reservations held since before ``before`` by a dead process."""
        ...

    async def persist(self) -> None:
        """Write the spend not yet in the database."""
        ...

    async def aclose(self) -> None: ...


def store_kind(choice: str, *, redis_url: str | None, dialect: str) -> str:
    if choice != "auto":
        return choice
    if redis_url:
        return "redis"
    return "database" if dialect == "postgresql" else "memory"


def build_budget_store(choice: str, database: Database, *, redis: str | aioredis.Redis | None,
                       ttl_seconds: float, redis_prefix: str) -> BudgetStore:
    """``redis``: ``redis_url``, or a client the app shares (and closes)."""
    repository = BudgetRepository(database)
    kind = store_kind(choice, redis_url=redis if isinstance(redis, str) or redis is None else "client",
                      dialect=database.dialect)
    if kind == "redis":
        if not redis:
            raise ValueError("metering.budget_store 'redis' needs redis_url")
        from switchyard.gateway.budgets_redis import RedisBudgetStore

        return RedisBudgetStore(redis, repository, prefix=redis_prefix, ttl_seconds=ttl_seconds)
    if kind == "memory":
        from switchyard.gateway.budgets_memory import MemoryBudgetStore

        return MemoryBudgetStore(repository)
    return repository
