"""Cost of one rate-limit admission and its settle, per store: the in-process one and the
Redis one (the real server, one Lua script each way). Sequential calls (latency) and 64
concurrent callers (throughput), two levels (key and project) with all three limits set. For
Redis, also the server's own time per call in the scripts (``INFO commandstats``: what the
scripts cost the Redis every process shares). ``PYTHONPATH=OTHER/src`` measures another
checkout's stores.

    python -m bench.limits_admission [--redis redis://127.0.0.1:6379/13] [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time

import redis

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


async def run(name: str, store: LimitStore, calls: int, server: redis.Redis | None = None) -> None:
    await store.admit(levels(), "warm", 300)  # the scripts loaded
    if server is not None:
        server.config_resetstat()
    times = sorted(await sequential(store, calls))
    rate = await concurrent(store, calls)
    await store.aclose()
    line = (f"{name:7} admit+settle p50 {statistics.median(times) * 1e6:7.1f} us  "
            f"p99 {times[int(len(times) * 0.99)] * 1e6:7.1f} us  concurrent {rate:9.0f} calls/s")
    if server is not None:
        scripts = server.info("commandstats")["cmdstat_evalsha"]
        line += f"  Redis {scripts['usec'] / (2 * calls):5.1f} us/call in scripts"
    print(line)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    await run("memory", MemoryLimitStore(), args.calls)
    await run("redis", RedisLimitStore(args.redis, prefix=f"bench:{secrets.token_hex(4)}:"), args.calls,
              redis.Redis.from_url(args.redis))


if __name__ == "__main__":
    asyncio.run(main())
