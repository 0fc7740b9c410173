"""Latency and CPU per request of Switchyard revisions, measured one after the other: the
gateway benchmark's setup (``bench/gateway.py``: fake upstream, every feature on), each
revision's server on CPU 0, the load generator and upstream on CPU 1, measurements
alternating between the servers (the order reversed every round) so that a machine whose
load drifts weighs on each alike. Prints each measurement and the medians: p50 latency
(time to first token when streaming) and server CPU per request.

    .venv/bin/python bench/gateway_ab.py chat1 c0eaadd,tree --redis --repeat 4 --duration 4

``tree`` is this checkout's src/; any other name is a git revision. A name ending in ``+redis``
has its limits in Redis (as all have with ``--redis``): ``tree,tree+redis`` sets the two
stores side by side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway
from procs import baseline_source, cpu_seconds, start, stop, wait_http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(gateway.SCENARIOS))
    parser.add_argument("revs", help="comma-separated: git revisions, or 'tree'")
    parser.add_argument("--redis", action="store_true", help="limits in Redis (the sy+redis target)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sy-ab-"))
    env = {**os.environ}
    port = gateway.free_port()
    fake = start([str(gateway.PYTHON), str(gateway.BENCH / "fake_upstream.py"), "--port", str(port),
                  "--chunks", "20", "--slow-chunks", "600"], work / "fake.log", env, "1")
    targets: list[gateway.Target] = []
    try:
        wait_http(f"http://127.0.0.1:{port}/health", fake, work / "fake.log")
        for i, name in enumerate(opts.revs.split(",")):
            rev = name.removesuffix("+redis")
            src = None if rev == "tree" else baseline_source(rev, work / f"src{i}")
            targets.append(gateway.start_switchyard(name, work, port, env, "0", opts.redis or name != rev, src=src,
                                                    redis_url=f"redis://127.0.0.1:6379/{13 - i}"))
        args = list(gateway.SCENARIOS[opts.scenario])
        if opts.scenario == "rate":
            args += ["--rate", "10"]
        figures: dict[str, dict[str, list[float]]] = {t.name: {"p50": [], "cpu": [], "rps": [], "redis": []}
                                                      for t in targets}
        redis_pid = _redis_server_pid() if opts.redis or "+redis" in opts.revs else None
        for t in targets:  # warm-up
            gateway.loadgen(t, [*args, "--model", t.model, "--duration", "2", "--warmup", "0"], "1", 200)
        for r in range(opts.repeat):
            for t in targets if r % 2 == 0 else targets[::-1]:
                assert t.proc is not None
                cpu0 = cpu_seconds(t.proc.pid)
                redis0 = cpu_seconds(redis_pid) if redis_pid else 0.0
                result = gateway.loadgen(t, [*args, "--model", t.model, "--duration", str(opts.duration),
                                             "--warmup", "0"], "1", opts.duration + 120)
                cpu = 1000 * (cpu_seconds(t.proc.pid) - cpu0) / max(1, result["requests"])
                redis_cpu = 1000 * (cpu_seconds(redis_pid) - redis0) / max(1, result["requests"]) if redis_pid else 0.0
                figures[t.name]["redis"].append(redis_cpu)
                key = "ttft" if "ttft" in result else "latency"
                figures[t.name]["p50"].append(result[key]["p50_ms"])
                figures[t.name]["cpu"].append(cpu)
                figures[t.name]["rps"].append(result["requests"] / opts.duration)
                print(f"  {t.name:10} {key} p50 {result[key]['p50_ms']:.3f} ms, CPU {cpu:.3f} ms/req, "
                      f"{result['requests'] / opts.duration:.0f} req/s, {result['errors']} errors"
                      + (f", Redis CPU {redis_cpu:.3f} ms/req" if redis_pid else ""), flush=True)
        for name, f in figures.items():
            print(f"{opts.scenario}{' redis' if opts.redis else ''} {name:10} median p50 "
                  f"{statistics.median(f['p50']):.3f} ms, CPU {statistics.median(f['cpu']):.3f} ms/req, "
                  f"{statistics.median(f['rps']):.0f} req/s"
                  + (f", Redis CPU {statistics.median(f['redis']):.3f} ms/req" if redis_pid else ""))
    finally:
        for t in targets:
            if t.proc is not None:
                stop(t.proc)
        stop(fake)


def _redis_server_pid() -> int | None:
    """The local Redis server's pid (its CPU is counted per request too), if this user can see it."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "redis-server":
                    return int(proc.name)
            except OSError:
                continue
    return None


if __name__ == "__main__":
    main()
