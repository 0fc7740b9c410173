"""Both limit stores, the in-process one and the Redis one (the real server on 127.0.0.1:6379),
hold the same rules: every level checked, all taken or none, tokens settled to real usage,
concurrency slots released, and (Redis) the slots of a dead process freed by their leases."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest

from switchyard.gateway.auth import Limits
from switchyard.gateway.limits import Bucket, LimitStore, MemoryLimitStore
from switchyard.gateway.limits.model import SLICE_SECONDS, WINDOW_SECONDS
from switchyard.gateway.limits.redis_store import RedisLimitStore
from switchyard.gateway.limits.script_channel import CLIENT_NAME

REDIS_URL = "redis://127.0.0.1:6379/11"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def redis_store(lease_seconds: float = 60.0, prefix: str | None = None) -> RedisLimitStore:
    return RedisLimitStore(REDIS_URL, prefix=prefix or f"test:{secrets.token_hex(6)}:", lease_seconds=lease_seconds)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LimitStore]:
    made: LimitStore = MemoryLimitStore() if request.param == "memory" else redis_store()
    yield made
    await made.aclose()


def rpm(name: str, n: int) -> Bucket:
    return Bucket(name, Limits(requests_per_minute=n))


async def test_a_refusal_at_one_level_takes_nothing_from_the_others(store: LimitStore) -> None:
    wide, narrow = rpm("key:k", 10), rpm("project:p", 1)
    assert (await store.admit([wide, narrow], "c1", 0)).allowed
    refused = await store.admit([wide, narrow], "c2", 0)
    assert not refused.allowed
    assert (refused.reason, refused.bucket) == ("requests", "project:p")
    assert 0 < refused.retry_after <= 60 + SLICE_SECONDS
    assert refused.requests is not None and refused.requests.remaining == 0
    again = await store.admit([wide], "c3", 0)
    assert again.allowed and again.requests is not None
    assert again.requests.remaining == 8  # c1 and c3: the refused c2 took nothing from key:k


async def test_tokens_are_reserved_then_settled_to_the_real_count(store: LimitStore) -> None:
    level = [Bucket("key:t", Limits(tokens_per_minute=250))]
    first = await store.admit(level, "c1", 100)
    assert first.allowed and first.tokens is not None and first.tokens.remaining == 150
    refused = await store.admit(level, "c2", 200)
    assert not refused.allowed and refused.reason == "tokens"
    await store.settle(level, "c1", 10)
    second = await store.admit(level, "c2", 200)
    assert second.allowed and second.tokens is not None and second.tokens.remaining == 40
    await store.settle(level, "c1", 10)  # settling again changes nothing
    assert not (await store.admit(level, "c3", 41)).allowed
    assert (await store.admit(level, "c3", 40)).allowed


async def test_a_call_larger_than_the_limit_is_refused_outright(store: LimitStore) -> None:
    refused = await store.admit([Bucket("key:big", Limits(tokens_per_minute=100))], "c1", 101)
    assert not refused.allowed and refused.reason == "tokens" and refused.retry_after == 60


async def test_concurrency_slots_are_released_when_calls_end(store: LimitStore) -> None:
    level = [Bucket("project:c", Limits(max_concurrent_requests=2))]
    assert (await store.admit(level, "c1", 0)).allowed
    assert (await store.admit(level, "c2", 0)).allowed
    refused = await store.admit(level, "c3", 0)
    assert not refused.allowed and refused.reason == "concurrency"
    await store.settle(level, "c1", None)
    assert (await store.admit(level, "c3", 0)).allowed


async def test_a_settlement_not_waited_for_lands_before_the_next_admission(store: LimitStore) -> None:
    level = [Bucket("project:soon", Limits(max_concurrent_requests=1, tokens_per_minute=100))]
    assert (await store.admit(level, "c1", 90)).allowed
    store.settle_soon(level, "c1", 10)  # returns at once; sent ahead of the next admission
    second = await store.admit(level, "c2", 90)
    assert second.allowed and second.tokens is not None and second.tokens.remaining == 0


async def test_redis_lands_settlements_not_waited_for_when_it_closes() -> None:
    prefix = f"test:{secrets.token_hex(6)}:"
    level = [Bucket("key:soon", Limits(max_concurrent_requests=1))]
    ending = RedisLimitStore(REDIS_URL, prefix=prefix)
    assert (await ending.admit(level, "c1", 0)).allowed
    ending.settle_soon(level, "c1", None)
    await ending.aclose()
    other = RedisLimitStore(REDIS_URL, prefix=prefix)
    try:
        assert (await other.admit(level, "c2", 0)).allowed
    finally:
        await other.aclose()


async def test_redis_admits_a_rider_with_the_call_and_only_when_the_call_is_admitted() -> None:
    store = redis_store()
    try:
        call, rider = [rpm("key:pair", 1)], Bucket("deployment:d", Limits(requests_per_minute=1, tokens_per_minute=50))
        decision, early = await store.admit_pair(call, "c1", 30, rider, "c1d")
        assert decision.allowed and early is not None and early.allowed
        assert early.tokens is not None and early.tokens.remaining == 20
        refused, none = await store.admit_pair(call, "c2", 30, rider, "c2d")
        assert not refused.allowed and none is None  # the call refused: the rider not even checked
        decision, early = await store.admit_pair([rpm("key:other", 5)], "c3", 30, rider, "c3d")
        assert decision.allowed and early is not None and not early.allowed  # its own level, on its own
        assert (early.reason, early.bucket) == ("requests", "deployment:d")
        assert (await store.admit([rpm("key:other", 5)], "c4", 0)).allowed  # c3 kept its admission
    finally:
        await store.aclose()


async def test_redis_takes_an_unused_admission_back_whole() -> None:
    store = redis_store()
    try:
        level = [Bucket("deployment:u", Limits(requests_per_minute=1, tokens_per_minute=50,
                                              max_concurrent_requests=1))]
        assert (await store.admit(level, "c1", 50)).allowed
        refused = await store.admit(level, "c2", 0)
        assert not refused.allowed
        store.cancel_soon(level, "c1")  # lands ahead of the next admission
        again = await store.admit(level, "c2", 50)
        assert again.allowed and again.requests is not None and again.requests.remaining == 0
        assert again.tokens is not None and again.tokens.remaining == 0
    finally:
        await store.aclose()


async def test_redis_loads_its_scripts_again_when_the_server_lost_them() -> None:
    store = redis_store()
    try:
        level = [Bucket("key:flushed", Limits(requests_per_minute=5, tokens_per_minute=100))]
        assert (await store.admit(level, "c1", 50)).allowed
        await store.client.script_flush()
        store.settle_soon(level, "c1", 10)  # rides with the next admission, which finds no script
        again = await store.admit(level, "c2", 5)
        assert again.allowed and again.requests is not None and again.requests.remaining == 3
        assert again.tokens is not None and again.tokens.remaining == 85  # the settlement ran once
    finally:
        await store.aclose()


async def test_redis_drops_every_slice_that_left_the_window_in_one_admission() -> None:
    """A level busy for a minute, then quiet: the next admission drops every slice that aged
    out (hundreds of them, with gaps between) from the sums and the hash, and is checked on
    what is left, not refused by the old counts."""
    prefix = f"test:{secrets.token_hex(6)}:"
    store = redis_store(prefix=prefix)
    try:
        client = store.client
        seconds, micros = await client.time()
        width = int(SLICE_SECONDS * 1000)
        now_slice = (seconds * 1000 + micros // 1000) // width
        window_slices = int(WINDOW_SECONDS / SLICE_SECONDS)
        old = [now_slice - window_slices - 5 - 2 * i for i in range(300)][::-1]  # every other slice, all gone
        recent = now_slice - 10  # still in the window
        fields: dict[str, int] = {"_f": old[0], "_r": len(old) + 1, "_t": 200 * len(old) + 30}
        for piece in old:
            fields |= {f"r{piece}": 1, f"t{piece}": 200}
        fields |= {f"r{recent}": 1, f"t{recent}": 30}
        await client.hset(f"{prefix}key:burst:w", mapping=fields)
        level = [Bucket("key:burst", Limits(requests_per_minute=3, tokens_per_minute=100))]
        admitted = await store.admit(level, "c1", 40)
        assert admitted.allowed and admitted.tokens is not None and admitted.tokens.remaining == 30
        assert admitted.requests is not None and admitted.requests.remaining == 1
        kept = await client.hgetall(f"{prefix}key:burst:w")
        assert kept[b"_f"] == str(recent).encode() and kept[b"_r"] == b"2" and kept[b"_t"] == b"70"
        assert len(kept) == 3 + 4  # the sums and the oldest slice, then the recent slice and c1's
        assert not (await store.admit(level, "c2", 31)).allowed
    finally:
        await store.aclose()


async def test_redis_counts_from_the_slice_it_is_in_when_the_clock_stepped_back() -> None:
    """Redis's clock moved back below the oldest slice a level holds: the call's slice becomes
    the oldest, so it leaves the window in turn rather than hiding below the slices dropped."""
    prefix = f"test:{secrets.token_hex(6)}:"
    store = redis_store(prefix=prefix)
    try:
        client = store.client
        seconds, micros = await client.time()
        now_slice = (seconds * 1000 + micros // 1000) // int(SLICE_SECONDS * 1000)
        ahead = now_slice + 40
        await client.hset(f"{prefix}key:skew:w", mapping={"_f": ahead, "_r": 1, "_t": 10, f"r{ahead}": 1,
                                                           f"t{ahead}": 10})
        level = [Bucket("key:skew", Limits(requests_per_minute=5, tokens_per_minute=100))]
        admitted = await store.admit(level, "c1", 20)
        assert admitted.allowed and admitted.requests is not None and admitted.requests.remaining == 3
        kept = await client.hgetall(f"{prefix}key:skew:w")
        oldest = int(kept[b"_f"])
        assert now_slice <= oldest < ahead and kept[f"r{oldest}".encode()] == b"1"
        assert kept[b"_r"] == b"2" and kept[b"_t"] == b"30"
    finally:
        await store.aclose()


async def test_redis_keeps_what_a_refused_admission_did_not_drop() -> None:
    """A refused admission that dropped every slice up to now keeps the counts beyond it (a
    clock that stepped back): the next call is refused too."""
    prefix = f"test:{secrets.token_hex(6)}:"
    store = redis_store(prefix=prefix)
    try:
        client = store.client
        seconds, micros = await client.time()
        now_slice = (seconds * 1000 + micros // 1000) // int(SLICE_SECONDS * 1000)
        gone, ahead = now_slice - int(WINDOW_SECONDS / SLICE_SECONDS) - 5, now_slice + 40
        await client.hset(f"{prefix}key:kept:w", mapping={"_f": gone, "_r": 6, "_t": 0, f"r{gone}": 1,
                                                           f"t{gone}": 0, f"r{ahead}": 5, f"t{ahead}": 0})
        level = [rpm("key:kept", 5)]
        assert not (await store.admit(level, "c1", 0)).allowed
        refused = await store.admit(level, "c2", 0)
        assert not refused.allowed and refused.reason == "requests"
    finally:
        await store.aclose()


async def test_redis_settles_a_call_once() -> None:
    store = redis_store()
    try:
        level = [Bucket("key:once", Limits(tokens_per_minute=100, max_concurrent_requests=2))]
        assert (await store.admit(level, "c1", 60)).allowed
        await store.settle(level, "c1", 10)
        await store.settle(level, "c1", 10)
        store.cancel_soon(level, "c1")
        after = await store.admit(level, "c2", 5)
        assert after.allowed and after.tokens is not None and after.tokens.remaining == 85
    finally:
        await store.aclose()


async def test_redis_connects_again_after_losing_its_connection() -> None:
    store = redis_store()
    try:
        level = [rpm("key:killed", 5)]
        assert (await store.admit(level, "c1", 0)).allowed
        listed = await store.client.client_list()
        ours = [c["id"] for c in listed if c.get("name") == CLIENT_NAME and c.get("db") == REDIS_URL.rsplit("/", 1)[1]]
        assert ours
        for ident in ours:
            await store.client.client_kill_filter(_id=ident)
        await asyncio.sleep(0.2)
        again = await store.admit(level, "c2", 0)
        assert again.allowed and again.requests is not None and again.requests.remaining == 3
    finally:
        await store.aclose()


async def test_memory_windows_slide() -> None:
    clock = Clock()
    store = MemoryLimitStore(clock)
    level = [Bucket("key:w", Limits(requests_per_minute=2, tokens_per_minute=100))]
    assert (await store.admit(level, "c1", 60)).allowed
    clock.now += 30
    assert (await store.admit(level, "c2", 40)).allowed
    refused = await store.admit(level, "c3", 1)
    assert not refused.allowed and 30 <= refused.retry_after <= 30 + SLICE_SECONDS
    clock.now += 30 - SLICE_SECONDS / 2
    assert not (await store.admit(level, "c3", 1)).allowed  # a minute has not passed for c1
    clock.now += SLICE_SECONDS * 1.5  # c1 leaves the window (its slice is a minute old)
    admitted = await store.admit(level, "c3", 60)
    assert admitted.allowed and admitted.tokens is not None and admitted.tokens.remaining == 0


async def test_redis_holds_a_limit_exactly_under_concurrent_admissions_from_two_processes() -> None:
    prefix = f"test:{secrets.token_hex(6)}:"
    a = RedisLimitStore(REDIS_URL, prefix=prefix)
    b = RedisLimitStore(REDIS_URL, prefix=prefix)
    level = [rpm("key:shared", 37), Bucket("project:shared", Limits(tokens_per_minute=10_000))]
    decisions = await asyncio.gather(*[(a if i % 2 else b).admit(level, f"c{i}", 5) for i in range(120)])
    assert sum(d.allowed for d in decisions) == 37
    assert all(d.reason == "requests" for d in decisions if not d.allowed)
    await a.aclose()
    await b.aclose()


async def _admitted_once_free(make: Callable[[], RedisLimitStore], level: list[Bucket]) -> bool:
    store = make()
    try:
        for attempt in range(300):
            if (await store.admit(level, f"later{attempt}", 0)).allowed:
                return True
            await asyncio.sleep(0.1)
        return False
    finally:
        await store.aclose()


async def test_redis_frees_the_slots_of_a_process_that_died() -> None:
    prefix = f"test:{secrets.token_hex(6)}:"
    level = [Bucket("key:lease", Limits(max_concurrent_requests=1))]
    dead = RedisLimitStore(REDIS_URL, prefix=prefix, lease_seconds=3)
    assert (await dead.admit(level, "held", 0)).allowed
    await dead.aclose()  # never settles, as if the process had been killed
    survivor = RedisLimitStore(REDIS_URL, prefix=prefix)
    assert not (await survivor.admit(level, "now", 0)).allowed
    await survivor.aclose()
    assert await _admitted_once_free(lambda: RedisLimitStore(REDIS_URL, prefix=prefix), level)


async def test_redis_leases_of_live_calls_are_renewed() -> None:
    prefix = f"test:{secrets.token_hex(6)}:"
    level = [Bucket("key:renewed", Limits(max_concurrent_requests=1))]
    live = RedisLimitStore(REDIS_URL, prefix=prefix, lease_seconds=2)
    other = RedisLimitStore(REDIS_URL, prefix=prefix, lease_seconds=2)
    assert (await live.admit(level, "long", 0)).allowed
    for _ in range(4):  # twice the lease: still held, since the live store renews it
        await asyncio.sleep(1.0)
        assert not (await other.admit(level, "probe", 0)).allowed
    await live.settle(level, "long", None)
    assert (await other.admit(level, "probe", 0)).allowed
    await live.aclose()
    await other.aclose()


async def test_memory_held_per_level_does_not_grow_with_the_request_rate() -> None:
    clock = Clock()
    store = MemoryLimitStore(clock)
    level = [Bucket("key:busy", Limits(requests_per_minute=10**9, tokens_per_minute=10**12))]
    for i in range(20_000):  # 100 requests a second for 200 s
        clock.now += 0.01
        assert (await store.admit(level, f"c{i}", 7)).allowed
        await store.settle(level, f"c{i}", 5)
    held = store._levels["key:busy"]
    assert len(held.slices) <= WINDOW_SECONDS / SLICE_SECONDS + 2 and not held.held
    assert held.request_sum == sum(s.requests for s in held.slices)
    assert 5_900 <= held.request_sum <= 6_100 and held.token_sum == 5 * held.request_sum
