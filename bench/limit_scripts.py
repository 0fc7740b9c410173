"""Redis CPU of the rate limiter's scripts: admissions at four levels (a key, its project, the
project's model, and the deployment as the call's rider) with their settlements, 32 at a time,
as one process sends them; read off ``INFO commandstats`` (the time Redis spent in
``EVALSHA``, the commands the scripts run included).

    .venv/bin/python bench/limit_scripts.py [--src OTHER/src] [--calls 6000]

``--src`` measures another checkout's store (``git worktree add /tmp/old REV``)."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

REDIS_URL = "redis://127.0.0.1:6379/12"


async def measure(calls: int) -> None:
    import redis

    from switchyard.gateway.auth import Limits
    from switchyard.gateway.limits.model import Bucket
    from switchyard.gateway.limits.redis_store import RedisLimitStore

    server = redis.Redis.from_url(REDIS_URL)
    store = RedisLimitStore(REDIS_URL, prefix=f"bench:{secrets.token_hex(4)}:")
    high = Limits(requests_per_minute=10**7, tokens_per_minute=10**9)
    levels = [Bucket("key:k", high), Bucket("project:p", high), Bucket("project-model:p:m", high)]
    rider = Bucket("deployment:m:0", high)

    async def one(n: int) -> None:
        await store.admit_pair(levels, f"c{n}", 120, rider, f"c{n}-d")
        store.settle_soon([rider], f"c{n}-d", 30)
        await store.settle(levels, f"c{n}", 30)

    await one(-1)  # the scripts loaded
    server.config_resetstat()
    for batch in range(calls // 32):
        await asyncio.gather(*(one(batch * 32 + i) for i in range(32)))
    await store.aclose()
    stats = server.info("commandstats")
    done = calls // 32 * 32
    scripts = stats["cmdstat_evalsha"]
    print(f"{done} calls: Redis spent {scripts['usec'] / done:.1f} us per call in scripts "
          f"({scripts['calls']} EVALSHA, {scripts['usec_per_call']:.1f} us each)")
    for name, figures in sorted(stats.items(), key=lambda kv: -kv[1]["usec"]):
        if name not in ("cmdstat_evalsha", "cmdstat_config|resetstat"):
            print(f"  {name.removeprefix('cmdstat_'):12} {figures['calls'] / done:5.1f} per call, "
                  f"{figures['usec_per_call']:.2f} us each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent / "src")
    parser.add_argument("--calls", type=int, default=6000)
    opts = parser.parse_args()
    sys.path.insert(0, str(opts.src.resolve()))
    asyncio.run(measure(opts.calls))


if __name__ == "__main__":
    main()
