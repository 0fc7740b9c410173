"""Limits held in Redis, exact across any number of server processes: one Lua script checks
every level and takes from all of them or none, in one round trip.

Concurrency slots are leases with an expiry; this process extends the leases of its calls
in flight (one batched script every third of the lease), so the slots of a process that
died free themselves when its leases run out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import redis.asyncio as aioredis

from switchyard.gateway.limits import lua
from switchyard.gateway.limits.model import WINDOW_SECONDS, Bucket, Decision, Reason, Usage, decide

log = logging.getLogger(__name__)

_REASONS: dict[str, Reason] = {"requests": "requests", "tokens": "tokens", "concurrency": "concurrency"}


def _limit(value: int | None) -> int:
    return -1 if value is None else value


class RedisLimitStore:
    def __init__(self, url: str, *, prefix: str = "switchyard:rl:", lease_seconds: float = 60.0) -> None:
        # bounded waits: a Redis that stops answering delays a call by seconds, never hangs it
        self._redis: aioredis.Redis = aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._prefix = prefix
        self._lease_ms = int(lease_seconds * 1000)
        self._admit = self._redis.register_script(lua.ADMIT)
        self._settle = self._redis.register_script(lua.SETTLE)
        self._renew = self._redis.register_script(lua.RENEW)
        self._live: dict[str, list[str]] = {}  # call id -> its concurrency keys
        self._renewer: asyncio.Task[None] | None = None

    @property
    def client(self) -> aioredis.Redis:
        """The connection, for others to share (budgets); this store closes it."""
        return self._redis

    def _keys(self, bucket: Bucket) -> list[str]:
        base = self._prefix + bucket.name
        return [base + ":r", base + ":t", base + ":a", base + ":c"]

    async def admit(self, buckets: list[Bucket], call_id: str, tokens: int) -> Decision:
        keys: list[str] = []
        args: list[Any] = [call_id, tokens, self._lease_ms, int(WINDOW_SECONDS * 1000), len(buckets)]
        for bucket in buckets:
            keys.extend(self._keys(bucket))
            lim = bucket.limits
            args.extend([_limit(lim.requests_per_minute), _limit(lim.tokens_per_minute),
                         _limit(lim.max_concurrent_requests)])
        raw = await self._admit(keys=keys, args=args)
        refused_at = int(raw[0])
        reason = raw[1].decode() if isinstance(raw[1], bytes) else str(raw[1])
        used = [Usage(int(raw[3 + i * 4]), int(raw[4 + i * 4]), int(raw[5 + i * 4]) / 1000,
                      int(raw[6 + i * 4]) / 1000) for i in range(len(buckets))]
        refused = (refused_at - 1, _REASONS[reason], int(raw[2]) / 1000) if refused_at else None
        if refused is None:
            leased = [self._keys(b)[3] for b in buckets if b.limits.max_concurrent_requests is not None]
            if leased:
                self._live[call_id] = leased
                self._ensure_renewer()
        return decide(buckets, used, tokens, refused)

    async def settle(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        self._live.pop(call_id, None)
        keys: list[str] = []
        for bucket in buckets:  # only levels with something to settle: a round trip saved otherwise
            lim = bucket.limits
            if (lim.tokens_per_minute is not None and tokens is not None) or lim.max_concurrent_requests is not None:
                _, _, amounts, leases = self._keys(bucket)
                keys.extend([amounts, leases])
        if keys:
            await self._settle(keys=keys, args=[call_id, -1 if tokens is None else tokens])

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_loop(), name="rate-limit-lease-renewer")

    async def _renew_loop(self) -> None:
        while self._live:
            await asyncio.sleep(self._lease_ms / 3000)
            keys: list[str] = []
            members: list[str] = []
            for call_id, leased in list(self._live.items()):
                keys.extend(leased)
                members.extend([call_id] * len(leased))
            if not keys:
                continue
            try:
                await self._renew(keys=keys, args=[self._lease_ms, *members])
            except Exception:
                log.exception("renewing rate-limit leases failed")

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self._redis.aclose()
