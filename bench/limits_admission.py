"""Cost of one rate-limit admission and its settle, per store: the in-process one and the
Redis one (the real server, one Lua script each way). Sequential calls (latency) and 64
concurrent callers (throughput), two levels (key and project) with all three limits set.

    python -m bench.limits_admission [--redis redis://127.0.0.1:6379/13] [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time

from switchyard.gateway.auth import Limits
from switchyard.gateway.limits import Bucket, LimitStore, MemoryLimitStore
from switchyard.gateway.limits.redis_store import RedisLimitStore

HUGE = 10**12


def levels() -> list[Bucket]:
    limits = Limits(requests_per_minute=HUGE, tokens_per_minute=HUGE, max_concurrent_requests=HUGE)
    return [Bucket("key:bench", limits), Bucket("project:bench", limits)]


async def sequential(store: LimitStore, calls: int) -> list[float]:
    buckets = levels()
    times: list[float] = []
    for n in range(calls):
        started = time.perf_counter()
        decision = await store.admit(buckets, f"c{n}", 300)
        await store.settle(buckets, f"c{n}", 18)
        times.append(time.perf_counter() - started)
        assert decision.allowed
    return times


async def concurrent(store: LimitStore, calls: int, width: int = 64) -> float:
    buckets = levels()
    counter = iter(range(calls))

    async def worker() -> None:
        for n in counter:
            await store.admit(buckets, f"p{n}", 300)
            await store.settle(buckets, f"p{n}", 18)

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(width)])
    return calls / (time.perf_counter() - started)


async def run(name: str, store: LimitStore, calls: int) -> None:
    times = sorted(await sequential(store, calls))
    rate = await concurrent(store, calls)
    print(f"{name:7} admit+settle p50 {statistics.median(times) * 1e6:7.1f} us  "
          f"p99 {times[int(len(times) * 0.99)] * 1e6:7.1f} us  concurrent {rate:9.0f} calls/s")
    await store.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    await run("memory", MemoryLimitStore(), args.calls)
    await run("redis", RedisLimitStore(args.redis, prefix=f"bench:{secrets.token_hex(4)}:"), args.calls)


if __name__ == "__main__":
    asyncio.run(main())
