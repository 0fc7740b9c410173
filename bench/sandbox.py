"""Sandbox latency: cold start of one sandbox, a new session's first call with a warm
sandbox waiting, warm calls, a pandas call, a plot, files in and out, and a limit reset.
Run by hand: ``.venv/bin/python bench/sandbox.py [--calls N]``; prints a table."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable

from switchyard.sandbox import SandboxLimits, SandboxPool, SandboxSettings
from switchyard.sandbox.process import Sandbox
from switchyard.sandbox.runtime import Runtime


async def timed(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} |"


async def main(calls: int, starts: int) -> None:
    settings = SandboxSettings(limits=SandboxLimits(cpu_seconds=2, wall_seconds=10), warm=1, max_sessions=64)
    runtime = Runtime(settings)
    rows = []

    async def cold() -> None:
        sandbox = Sandbox(runtime, settings.limits)
        await sandbox.start()
        await sandbox.aclose()

    rows.append(row("cold start (bwrap + supervisor + kernel importing numpy/pandas/matplotlib)",
                    await timed(cold, starts)))
    runtime.close()

    pool = SandboxPool(settings)
    await pool.start()
    await pool.execute("warmup", "1")

    firsts = []
    for n in range(starts):
        while not pool.warm_ready:  # wait for the refill, as a real gap between sessions would
            await asyncio.sleep(0.05)
        t = time.perf_counter()
        await pool.execute(f"s{n}", "1 + 1")
        firsts.append((time.perf_counter() - t) * 1000)
        await pool.end_session(f"s{n}")
    rows.append(row("new session, first call (a warm sandbox waiting)", firsts))
    rows.append(row("warm call `1 + 1`", await timed(lambda: pool.execute("warm", "1 + 1"), calls)))
    await pool.execute("warm", "import pandas as pd, numpy as np\ndf = pd.DataFrame(np.random.rand(1000, 4))")
    rows.append(row("warm call: pandas describe() of 1000x4", await timed(
        lambda: pool.execute("warm", "df.describe()"), calls)))
    rows.append(row("warm call: matplotlib plot returned as PNG", await timed(
        lambda: pool.execute("warm", "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])"), max(5, calls // 5))))
    data = os.urandom(1024 * 1024)
    rows.append(row("put 1 MiB file", await timed(lambda: pool.put_file("warm", "x.bin", data), max(5, calls // 5))))
    rows.append(row("get 1 MiB file", await timed(lambda: pool.get_file("warm", "x.bin"), max(5, calls // 5))))
    rows.append(row("wall-clock stop and kernel restart (timeout=0.2 s)", await timed(
        lambda: pool.execute("warm", "import time\ntime.sleep(60)", timeout=0.2), max(3, starts // 2))))
    await pool.aclose()

    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, "
          f"Python {platform.python_version()}")
    print("| what | n | median ms | p95 ms |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.starts))
