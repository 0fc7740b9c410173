"""The cyclic garbage collector's share of a serving process's CPU under the gateway
benchmark's load: ``bench/gateway.py``'s Switchyard (fake upstream, every feature on) loaded
with one scenario, once with the product's collector settings (``cli.GC_THRESHOLDS``, the app
frozen once it listens) and once with CPython's defaults (threshold 700, nothing frozen).
``gc.callbacks`` time each collection on the process's CPU clock, between two signals sent
around the measured load.

    .venv/bin/python bench/gc_share.py --scenario stream32 --duration 10
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

BENCH = Path(__file__).resolve().parent


def serve(out: str, cpython_defaults: bool, argv: list[str]) -> int:
    """The wrapped ``switchyard`` command: SIGUSR2 starts counting, SIGUSR1 writes ``out``."""
    from switchyard import cli

    if cpython_defaults:
        cli.GC_THRESHOLDS = (700, 10, 10)
        cli.gc.freeze = lambda: None  # type: ignore[attr-defined]
    seen = {"gc": 0.0, "started": -1.0, "cpu": 0.0, "collections": [0, 0, 0]}

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen["started"] = time.process_time()
        elif seen["started"] >= 0:
            seen["gc"] += time.process_time() - seen["started"]
            seen["collections"][info["generation"]] += 1  # type: ignore[index]
            seen["started"] = -1.0

    def begin(_sig: int, _frame: FrameType | None) -> None:
        seen.update(gc=0.0, cpu=time.process_time(), collections=[0, 0, 0])

    def end(_sig: int, _frame: FrameType | None) -> None:
        cpu = time.process_time() - float(seen["cpu"])  # type: ignore[arg-type]
        Path(out).write_text(json.dumps({"cpu_s": cpu, "gc_s": seen["gc"], "collections": seen["collections"],
                                         "thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}))

    gc.callbacks.append(timed)
    signal.signal(signal.SIGUSR2, begin)
    signal.signal(signal.SIGUSR1, end)
    return cli.main(argv)


def measure(scenario: str, duration: float, cpython_defaults: bool) -> dict[str, object]:
    sys.path.insert(0, str(BENCH))
    import gateway
    from procs import start, stop

    work = Path(tempfile.mkdtemp(prefix="sy-gc-"))
    out = work / "gc.json"
    wrapper = work / "switchyard"
    flag = " --cpython-defaults" if cpython_defaults else ""
    wrapper.write_text(f"#!/bin/sh\nexec {gateway.PYTHON} {Path(__file__).resolve()} --serve {out}{flag} -- \"$@\"\n")
    wrapper.chmod(0o755)
    gateway.SWITCHYARD = wrapper
    env = {**os.environ}
    port = gateway.free_port()
    fake = start([str(gateway.PYTHON), str(gateway.BENCH / "fake_upstream.py"), "--port", str(port), "--chunks",
                  "20", "--slow-chunks", "600"], work / "fake.log", env, None)
    try:
        time.sleep(1)
        target = gateway.start_switchyard("sy", work, port, env, None, False)
        assert target.proc is not None
        try:
            args = gateway.SCENARIOS[scenario]
            gateway.loadgen(target, [*args, "--duration", "3"], None, 120)  # warm up
            os.kill(target.proc.pid, signal.SIGUSR2)
            load = gateway.loadgen(target, [*args, "--duration", str(duration)], None, 120 + duration)
            os.kill(target.proc.pid, signal.SIGUSR1)
            for _ in range(50):
                if out.exists():
                    break
                time.sleep(0.1)
        finally:
            stop(target.proc)
    finally:
        stop(fake)
    seen = json.loads(out.read_text())
    return {"settings": "CPython defaults" if cpython_defaults else "product", "req_per_s": round(load["rps"]),
            "gc_share_of_cpu": round(seen["gc_s"] / seen["cpu_s"], 3), "collections": seen["collections"],
            "thresholds": seen["thresholds"], "frozen_objects": seen["frozen"],
            "cpu_ms_per_req": round(1000 * seen["cpu_s"] / max(1, load["rps"] * duration), 3)}


def main() -> None:
    if "--serve" in sys.argv:  # the wrapped server
        at = sys.argv.index("--serve")
        cut = sys.argv.index("--")
        sys.exit(serve(sys.argv[at + 1], "--cpython-defaults" in sys.argv[:cut], sys.argv[cut + 1:]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="stream32")
    parser.add_argument("--duration", type=float, default=10.0)
    opts = parser.parse_args()
    for defaults in (True, False):
        print(json.dumps(measure(opts.scenario, opts.duration, defaults)), flush=True)
    print(json.dumps({"loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
