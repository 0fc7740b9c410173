"""Limits held in Redis, exact across any number of server processes: one Lua script checks
every level and takes from all of them or none, in one round trip.

Calls that end together are settled together: one script for all of them, sent on the
next turn of the event loop, or ahead of an admission made meanwhile, in its pipeline.

Concurrency slots are leases with an expiry; this process extends the leases of its calls
in flight (one batched script every third of the lease), so the slots of a process that
died free themselves when its leases run out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from switchyard.gateway.limits import lua
from switchyard.gateway.limits.model import SLICE_SECONDS, WINDOW_SECONDS, Bucket, Decision, Reason, Usage, decide
from switchyard.gateway.limits.script_channel import ScriptChannel, evalsha
from switchyard.gateway.redis_client import WAIT_SECONDS, bounded_client

log = logging.getLogger(__name__)

_REASONS: dict[str, Reason] = {"requests": "requests", "tokens": "tokens", "concurrency": "concurrency"}


LAZY_SECONDS = 0.005  # the longest a settlement nobody waits for waits for company
_NOT_COUNTED = (-1, 0)  # a call's slice and reserved tokens when it was not counted (or is settled)
_PRUNE_SLICES_PAST = 4096


def _limit(value: int | None) -> int:
    return -1 if value is None else value


def _extend(args: list[Any], bucket: Bucket) -> None:
    lim = bucket.limits
    args.extend([bucket.name, _limit(lim.requests_per_minute), _limit(lim.tokens_per_minute),
                 _limit(lim.max_concurrent_requests)])


def _counted_at(bucket: Bucket) -> bool:
    return bucket.limits.requests_per_minute is not None or bucket.limits.tokens_per_minute is not None


def _limits_tokens(bucket: Bucket) -> bool:
    return bucket.limits.tokens_per_minute is not None


def _settling(buckets: list[Bucket], call_id: str, piece: int, requests: int, tokens: int,
              counted: Callable[[Bucket], bool]) -> list[Any] | None:
    """One call's part of the settling script's argument (see ``lua.SETTLE``): ``requests`` and
    ``tokens`` added to its slice at the levels ``counted`` picks, its slots freed; None if
    that changes nothing."""
    names = [b.name for b in buckets if counted(b)] if piece >= 0 and (requests or tokens) else []
    slots = [b.name for b in buckets if b.limits.max_concurrent_requests is not None]
    if not names and not slots:
        return None
    return [piece, requests, tokens, len(names), *names, len(slots), *slots, call_id]


class _Settles:
    """Ended calls settled in one script: its packed argument, and the waiters of the calls
    that wait for it (``settle``; ``settle_soon`` does not)."""

    __slots__ = ("args", "send", "unwaited", "urgent", "waiters")

    def __init__(self, prefix: str) -> None:
        self.args: list[Any] = [prefix, int(WINDOW_SECONDS * 1000), int(SLICE_SECONDS * 1000)]
        self.waiters: list[asyncio.Future[None]] = []
        self.unwaited = 0
        self.send: asyncio.Handle | None = None  # the scheduled sending, cancelled if an admission takes it
        self.urgent = False  # sent on the next turn of the loop (someone waits), not after LAZY_SECONDS

    def add(self, call: list[Any], waiter: asyncio.Future[None] | None) -> None:
        self.args.extend(call)
        if waiter is None:
            self.unwaited += 1
        else:
            self.waiters.append(waiter)

    def packed(self) -> bytes:
        return orjson.dumps(self.args)

    def done(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)

    def fail(self, error: Exception) -> None:
        if self.unwaited:
            log.warning("settling %d ended calls' rate limits failed: %s", self.unwaited, error)
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(error)


class RedisLimitStore:
    def __init__(self, url: str, *, prefix: str = "switchyard:rl:", lease_seconds: float = 60.0) -> None:
        self._redis: aioredis.Redis = bounded_client(url)
        self._prefix = prefix
        self._lease_ms = int(lease_seconds * 1000)
        self._channel = ScriptChannel(url, WAIT_SECONDS)  # admissions and settlements
        self._admit = self._redis.register_script(lua.ADMIT)
        self._settle = self._redis.register_script(lua.SETTLE)
        self._renew = self._redis.register_script(lua.RENEW)
        self._live: dict[str, list[str]] = {}  # call id -> its concurrency keys
        self._counted: dict[str, tuple[int, int]] = {}  # call id -> its slice and tokens reserved, until settled
        self._prune_at = _PRUNE_SLICES_PAST
        self._renewer: asyncio.Task[None] | None = None
        self._waiting: _Settles | None = None  # ended calls not sent yet
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> aioredis.Redis:
        """The connection, for others to share (budgets); this store closes it."""
        return self._redis

    def _lease_key(self, bucket: Bucket) -> str:
        return self._prefix + bucket.name + ":c"  # as the scripts name it

    async def admit(self, buckets: list[Bucket], call_id: str, tokens: int) -> Decision:
        return (await self._admit_all(buckets, call_id, tokens, None, ""))[0]

    async def admit_pair(self, buckets: list[Bucket], call_id: str, tokens: int, rider: Bucket, rider_id: str
                         ) -> tuple[Decision, Decision | None]:
        """``admit``, then, when that admitted the call, ``rider``'s own admission (its level
        all or none) as ``rider_id`` with the same tokens: one script, one round trip."""
        return await self._admit_all(buckets, call_id, tokens, rider, rider_id)

    async def _admit_all(self, buckets: list[Bucket], call_id: str, tokens: int, rider: Bucket | None,
                         rider_id: str) -> tuple[Decision, Decision | None]:
        args: list[Any] = [self._prefix, call_id, tokens, self._lease_ms, int(WINDOW_SECONDS * 1000),
                           int(SLICE_SECONDS * 1000), len(buckets)]
        for bucket in buckets:
            _extend(args, bucket)
        if rider is not None:
            args.append(rider_id)
            _extend(args, rider)
        packed = orjson.dumps(args)
        settles = self._take_settles()
        if settles is None:
            raw = (await self._scripts((self._admit, packed)))[0]
            if isinstance(raw, Exception):
                raise raw
        else:
            raw = await self._settle_then_admit(settles, packed)
        piece = int(raw[3])
        decision = self._decision(buckets, call_id, tokens, raw, 0, 4, piece)
        at = 4 + 4 * len(buckets)
        if rider is None or len(raw) <= at:
            return decision, None
        return decision, self._decision([rider], rider_id, tokens, raw, at, at + 3, piece)

    def _decision(self, buckets: list[Bucket], call_id: str, tokens: int, raw: Any, at: int, figures: int,
                  piece: int) -> Decision:
        refused_at = int(raw[at])
        reason = raw[at + 1].decode() if isinstance(raw[at + 1], bytes) else str(raw[at + 1])
        used = [Usage(int(raw[figures + i * 4]), int(raw[figures + 1 + i * 4]), int(raw[figures + 2 + i * 4]) / 1000,
                      int(raw[figures + 3 + i * 4]) / 1000) for i in range(len(buckets))]
        refused = (refused_at - 1, _REASONS[reason], int(raw[at + 2]) / 1000) if refused_at else None
        if refused is None:
            self._remember(call_id, piece, tokens)
            leased = [self._lease_key(b) for b in buckets if b.limits.max_concurrent_requests is not None]
            if leased:
                self._live[call_id] = leased
                self._ensure_renewer()
        return decide(buckets, used, tokens, refused)

    def _remember(self, call_id: str, piece: int, tokens: int) -> None:
        counted = self._counted
        counted[call_id] = (piece, tokens)
        if len(counted) > self._prune_at:  # calls never settled, whose slices have left the window
            oldest = piece - int((WINDOW_SECONDS + SLICE_SECONDS) / SLICE_SECONDS) - 1
            self._counted = {k: v for k, v in counted.items() if v[0] >= oldest}
            self._prune_at = max(_PRUNE_SLICES_PAST, 2 * len(self._counted))

    async def settle(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        done = asyncio.get_running_loop().create_future()
        if self._queue_settle(buckets, call_id, tokens, done):
            await done

    def settle_soon(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        """Sent with the next admission or settlement of this process, or after ``LAZY_SECONDS``
        if none comes first: a call's deployment and the call itself are settled together."""
        self._queue_settle(buckets, call_id, tokens, None)

    def cancel_soon(self, buckets: list[Bucket], call_id: str) -> None:
        """An admission that was never used is taken back whole (its request, tokens and
        slot), with the next batch of settlements."""
        self._live.pop(call_id, None)
        piece, reserved = self._counted.pop(call_id, _NOT_COUNTED)
        call = _settling(buckets, call_id, piece, -1, -reserved, counted=_counted_at)
        if call is not None:
            self._enqueue(call, None)

    def _queue_settle(self, buckets: list[Bucket], call_id: str, tokens: int | None,
                      done: asyncio.Future[None] | None) -> bool:
        """Adds the call to the next settling script; False if it has nothing to settle."""
        self._live.pop(call_id, None)
        piece, reserved = self._counted.pop(call_id, _NOT_COUNTED)
        change = 0 if tokens is None or piece < 0 else tokens - reserved
        call = _settling(buckets, call_id, piece, 0, change, counted=_limits_tokens)
        if call is None:  # nothing to change: a round trip saved
            return False
        self._enqueue(call, done)
        return True

    def _enqueue(self, call: list[Any], done: asyncio.Future[None] | None) -> None:
        waiting = self._waiting
        if waiting is None:
            waiting = self._waiting = _Settles(self._prefix)
        waiting.add(call, done)
        loop = asyncio.get_running_loop()
        if done is not None and not waiting.urgent:
            if waiting.send is not None:
                waiting.send.cancel()
            waiting.urgent = True
            waiting.send = loop.call_soon(self._send_waiting)
        elif waiting.send is None:
            waiting.send = loop.call_later(LAZY_SECONDS, self._send_waiting)

    def _take_settles(self) -> _Settles | None:
        taken, self._waiting = self._waiting, None
        if taken is not None and taken.send is not None:
            taken.send.cancel()
        return taken

    def _send_waiting(self) -> None:
        settles = self._take_settles()
        if settles is not None:
            task = asyncio.get_running_loop().create_task(self._send_settles(settles), name="rate-limit-settler")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send_settles(self, settles: _Settles) -> None:
        try:
            settled = (await self._scripts((self._settle, settles.packed())))[0]
        except Exception as error:
            settles.fail(error)
            return
        if isinstance(settled, Exception):
            settles.fail(settled)
        else:
            settles.done()

    async def _scripts(self, *calls: tuple[AsyncScript, bytes]) -> list[Any]:
        """The scripts' replies (an error reply in its place), in one round trip; a script
        the server lost (a restart, SCRIPT FLUSH) is loaded again and only the calls that did
        not run are repeated (a settlement adds to counts: it must not run twice)."""
        replies = await self._channel.call(*[evalsha(script.sha, packed) for script, packed in calls])
        lost = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if lost:
            for i in lost:
                script = calls[i][0]
                script.sha = await self._redis.script_load(script.script)
            again = await self._channel.call(*[evalsha(calls[i][0].sha, calls[i][1]) for i in lost])
            for i, reply in zip(lost, again, strict=True):
                replies[i] = reply
        return replies

    async def _settle_then_admit(self, settles: _Settles, packed: bytes) -> Any:
        """The waiting settlements and an admission, in one round trip (settlements first)."""
        try:
            settled, raw = await self._scripts((self._settle, settles.packed()), (self._admit, packed))
        except BaseException as error:
            settles.fail(error if isinstance(error, Exception) else RuntimeError("admission cancelled"))
            raise
        if isinstance(settled, Exception):
            settles.fail(settled)
        else:
            settles.done()
        if isinstance(raw, Exception):
            raise raw
        return raw

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
        settles = self._take_settles()
        if settles is not None:
            await self._send_settles(settles)
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self._channel.aclose()
        await self._redis.aclose()
