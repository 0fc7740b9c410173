"""CPU per request of one Switchyard, and where it goes: the gateway benchmark's setup
(``bench/gateway.py``: fake upstream, every feature on, pinned to CPU 0), one load at a
time, the server's CPU time per request from ``/proc``, and with ``--profile`` a cProfile
of the event loop's thread timed by ``time.thread_time`` (CPU, not wall time: an idle
``await`` costs nothing, unlike a sampling profiler's view of waiting threads).

    .venv/bin/python bench/gateway_profile.py --scenario stream32 [--redis] [--profile]
    .venv/bin/python bench/gateway_profile.py --src /tmp/old/src   # another checkout's src/
"""

from __future__ import annotations

import argparse
import os
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway
from procs import start, stop, wait_http

PROFILED = '''
import cProfile, sys, time
from switchyard.cli import main
profile = cProfile.Profile(time.thread_time)
profile.enable()
try:
    main(sys.argv[1:])
finally:
    profile.disable()
    profile.dump_stats({out!r})
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(gateway.SCENARIOS), default="chat32")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--redis", action="store_true", help="limits in Redis (the sy+redis target)")
    parser.add_argument("--bare", action="store_true", help="no gateway feature on")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--src", type=Path, help="Switchyard's src/ to run (default: this checkout's)")
    parser.add_argument("--top", type=int, default=40)
    opts = parser.parse_args()
    opts.warmup, opts.client_cpus, opts.chunks = 1.0, "1", 20
    work = Path(tempfile.mkdtemp(prefix="sy-profile-"))
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    out = work / "loop.prof"
    if opts.profile:
        runner = work / "switchyard"
        runner.write_text(f"#!{gateway.PYTHON}\n" + PROFILED.format(out=str(out)))
        runner.chmod(0o755)
        gateway.SWITCHYARD = runner
    fake = start([str(gateway.PYTHON), str(gateway.BENCH / "fake_upstream.py"), "--port",
                  str(port := gateway.free_port()), "--chunks", str(opts.chunks), "--slow-chunks", "600"],
                 work / "fake.log", env, opts.client_cpus)
    target = None
    try:
        wait_http(f"http://127.0.0.1:{port}/health", fake, work / "fake.log")
        target = gateway.start_switchyard("switchyard", work, port, env, "0", opts.redis, bare=opts.bare,
                                          src=opts.src)
        args = list(gateway.SCENARIOS[opts.scenario])
        if opts.scenario == "rate":
            args += ["--rate", "10"]
        result = gateway.measured(target, args, opts)
        print(f"{opts.scenario}: {result['requests']} requests, {result.get('rps', 0):.0f}/s, "
              f"CPU {result.get('cpu_ms_per_request', 0):.3f} ms/request, errors {result['errors']}")
        for key in ("latency_ms", "ttft_ms"):
            if key in result:
                print(f"  {key}: {result[key]}")
    finally:
        if target is not None:
            stop(target.proc)
        stop(fake)
    if opts.profile and out.exists():
        stats = pstats.Stats(str(out))
        stats.sort_stats("tottime").print_stats(opts.top)
        stats.sort_stats("cumulative").print_stats(opts.top)
        print(f"profile: {out}")


if __name__ == "__main__":
    main()
