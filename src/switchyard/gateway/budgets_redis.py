"""Budget reservations in Redis, exact for every process sharing it: one Lua script checks
``spent + reserved + amount <= budget`` for every holder and reserves on all or none, in
one round trip. Each reservation is keyed by its id (a repeat changes nothing) and lives
``metering.reservation_ttl_seconds``: past that, its process is taken as dead and the next
reservation on the holder spends it as reserved (the worst case), as the database path's
sweeper does.

Per holder: ``<prefix>h:<holder>`` (hash: spent, reserved), ``<prefix>z:<holder>`` (the
reservations by expiry), ``<prefix>a:<holder>`` (their amounts); per reservation
``<prefix>r:<id>`` (its state). A holder missing from Redis (first use, or Redis restarted)
is loaded from the database's durable spend with HSETNX, so a concurrent load cannot
overwrite a newer value. Settled spend reaches the database in the background
(``persist``, with the ledger's batches) as "at least this much". An unreachable Redis
refuses budgeted calls with a 503 (rate limits fail open; budgets cannot)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.redis_client import bounded_client
from switchyard.store.budgets import BudgetRepository, Holder, Spend

SETTLED_KEPT_MS = 600_000  # a settled id is remembered this long: repeats come within seconds

RESERVE = """
local id, amount, ttl, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
for i = 1, n do
  if redis.call('EXISTS', KEYS[i * 3 - 1]) == 0 then return -i end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fits = true
for i = 1, n do
  local h, z, a = KEYS[i * 3 - 1], KEYS[i * 3], KEYS[i * 3 + 1]
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 1000)
  if #gone > 0 then
    local amounts = redis.call('HMGET', a, unpack(gone))
    local freed = 0
    for j = 1, #amounts do freed = freed + tonumber(amounts[j] or '0') end
    redis.call('HDEL', a, unpack(gone))
    redis.call('ZREM', z, unpack(gone))
    redis.call('HINCRBY', h, 'reserved', -freed)
    redis.call('HINCRBY', h, 'spent', freed)
  end
  local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
  if spent + reserved + amount > tonumber(ARGV[4 + i]) then fits = false end
end
if not fits then return 0 end
for i = 1, n do
  redis.call('ZADD', KEYS[i * 3], now + ttl, id)
  redis.call('HSET', KEYS[i * 3 + 1], id, amount)
  redis.call('HINCRBY', KEYS[i * 3 - 1], 'reserved', amount)
end
redis.call('HSET', KEYS[1], 'state', 'reserved')
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1
"""

# -> {settled now (0/1), each holder's spent (-1: holder not in Redis)}
SETTLE = """
local id, actual, ttl, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'settled' then return {0} end
local out = {1}
for i = 1, n do
  local h, z, a = KEYS[i * 3 - 1], KEYS[i * 3], KEYS[i * 3 + 1]
  if redis.call('EXISTS', h) == 1 then
    local held = redis.call('HGET', a, id)
    if held then
      redis.call('HDEL', a, id)
      redis.call('ZREM', z, id)
      redis.call('HINCRBY', h, 'reserved', -tonumber(held))
      redis.call('HINCRBY', h, 'spent', actual)
    elseif not state then
      redis.call('HINCRBY', h, 'spent', actual)
    end
    out[i + 1] = tonumber(redis.call('HGET', h, 'spent'))
  else
    out[i + 1] = -1
  end
end
redis.call('HSET', KEYS[1], 'state', 'settled')
redis.call('PEXPIRE', KEYS[1], ttl)
return out
"""


class RedisBudgetStore:
    def __init__(self, redis: str | aioredis.Redis, repository: BudgetRepository, *, prefix: str,
                 ttl_seconds: float) -> None:
        """``redis``: a URL (this store opens and closes its own client) or a client shared
        with the app (which closes it)."""
        self._owns_client = isinstance(redis, str)
        self._redis: aioredis.Redis = bounded_client(redis) if isinstance(redis, str) else redis
        self._repository = repository
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._reserve = self._redis.register_script(RESERVE)
        self._settle = self._redis.register_script(SETTLE)
        self._holders: dict[str, tuple[str, ...]] = {}  # this process's reservations in flight
        self._dirty: dict[str, int] = {}  # holder -> spent, not yet written to the database

    def _keys(self, holder: str) -> list[str]:
        return [f"{self._prefix}h:{holder}", f"{self._prefix}z:{holder}", f"{self._prefix}a:{holder}"]

    def _args(self, reservation_id: str, amount: int, holders: Sequence[str]) -> tuple[list[str], list[Any]]:
        keys = [f"{self._prefix}r:{reservation_id}"]
        for holder in holders:
            keys.extend(self._keys(holder))
        return keys, [reservation_id, amount, self._ttl_ms, len(holders)]

    async def reserve(self, reservation_id: str, holders: Sequence[Holder], amount: int) -> bool:
        keys, args = self._args(reservation_id, amount, [h.id for h in holders])
        args.extend(h.budget_nanousd for h in holders)
        for _ in range(len(holders) + 1):
            try:
                answer = int(await self._reserve(keys=keys, args=args))
            except RedisError as error:  # budgets fail closed: an unchecked call could overspend
                raise SwitchyardError(ErrorKind.OVERLOADED, "The budget of this request cannot be checked now "
                                      "(its store, Redis, is unreachable); try again later.") from error
            if answer >= 0:
                if answer:
                    self._holders[reservation_id] = tuple(h.id for h in holders)
                return answer == 1
            await self._load(holders[-answer - 1].id)
        raise RuntimeError("a budget holder kept vanishing from Redis")

    async def settle_many(self, settlements: Sequence[tuple[str, int]]) -> int:
        settled = 0
        for reservation_id, actual in settlements:
            holders = self._holders.get(reservation_id)
            if holders is None:
                continue  # not reserved by this process, or settled already
            keys, args = self._args(reservation_id, actual, holders)
            args[2] = min(self._ttl_ms, SETTLED_KEPT_MS)
            answer = await self._settle(keys=keys, args=args)
            del self._holders[reservation_id]
            settled += int(answer[0])
            for holder, spent in zip(holders, answer[1:], strict=False):
                if int(spent) >= 0:
                    self._dirty[holder] = int(spent)
        return settled

    async def spend(self, holder: str) -> Spend:
        spent, reserved = await self._redis.hmget(self._keys(holder)[0], ["spent", "reserved"])
        if spent is None:
            return Spend(await self._repository.durable_spend(holder), 0)
        return Spend(int(spent), int(reserved or 0))

    async def sweep(self, before: datetime) -> None:
        """Nothing: expired reservations are spent by the next reservation on their holder."""

    async def persist(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        try:
            await self._repository.write_spend(dirty)
        except BaseException:
            for holder, spent in dirty.items():
                self._dirty[holder] = max(spent, self._dirty.get(holder, 0))
            raise

    async def aclose(self) -> None:
        try:
            await self.persist()
        finally:
            if self._owns_client:
                await self._redis.aclose()

    async def _load(self, holder: str) -> None:
        spent = await self._repository.durable_spend(holder)
        key = self._keys(holder)[0]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "spent", spent)
            pipe.hsetnx(key, "reserved", 0)
            await pipe.execute()
