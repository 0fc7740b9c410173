"""CPU per request of Switchyard, this checkout against another revision, measured at the
same time: the gateway benchmark's setup (``bench/gateway.py``: fake upstream, every feature
on), both servers pinned to CPU 0 and loaded together by two load generators on CPU 1, so
that whatever else the machine runs disturbs both alike. Each measurement gives each
server's CPU time (``/proc``) per request it answered; the figure is the ratio, per
measurement and its median.

    .venv/bin/python bench/gateway_profile.py --baseline 1a912fa --scenario stream32 [--redis]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway
from procs import baseline_source, cpu_seconds, start, stop, wait_http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, metavar="REV", help="git revision to compare with")
    parser.add_argument("--scenario", choices=sorted(gateway.SCENARIOS), default="chat32")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--redis", action="store_true", help="limits in Redis (the sy+redis target)")
    opts = parser.parse_args()
    opts.warmup, opts.client_cpus = 0.5, "1"
    work = Path(tempfile.mkdtemp(prefix="sy-ab-"))
    env = {**os.environ}
    fake = start([str(gateway.PYTHON), str(gateway.BENCH / "fake_upstream.py"), "--port",
                  str(port := gateway.free_port()), "--chunks", "20", "--slow-chunks", "600"],
                 work / "fake.log", env, opts.client_cpus)
    targets: list[gateway.Target] = []
    try:
        wait_http(f"http://127.0.0.1:{port}/health", fake, work / "fake.log")
        src = baseline_source(opts.baseline, work / "baseline")
        targets.append(gateway.start_switchyard("before", work, port, env, "0", opts.redis, src=src,
                                                redis_url="redis://127.0.0.1:6379/13"))
        targets.append(gateway.start_switchyard("after", work, port, env, "0", opts.redis))
        args = list(gateway.SCENARIOS[opts.scenario])
        if opts.scenario == "rate":
            args += ["--rate", "10"]
        ratios: list[float] = []
        figures: dict[str, list[float]] = {t.name: [] for t in targets}
        for _ in range(opts.repeat):
            results: dict[str, dict] = {}
            cpu0 = {t.name: cpu_seconds(t.proc.pid) for t in targets}

            def load(t: gateway.Target, results: dict[str, dict] = results) -> None:
                results[t.name] = gateway.loadgen(t, [*args, "--model", t.model, "--duration", str(opts.duration),
                                                      "--warmup", "0"], opts.client_cpus, opts.duration + 120)

            threads = [threading.Thread(target=load, args=(t,)) for t in targets]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            per = {t.name: 1000 * (cpu_seconds(t.proc.pid) - cpu0[t.name]) / max(1, results[t.name]["requests"])
                   for t in targets}
            for name, value in per.items():
                figures[name].append(value)
            ratios.append(per["after"] / per["before"])
            print("  " + ", ".join(f"{n} {per[n]:.3f} ms/req ({results[n]['requests']} req, "
                                   f"{results[n]['errors']} err)" for n in per) + f", ratio {ratios[-1]:.3f}",
                  flush=True)
        print(f"{opts.scenario}{' redis' if opts.redis else ''}: CPU ms/request median before "
              f"{statistics.median(figures['before']):.3f} after {statistics.median(figures['after']):.3f}; "
              f"after/before median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")
    finally:
        for t in targets:
            stop(t.proc)
        stop(fake)


if __name__ == "__main__":
    main()
