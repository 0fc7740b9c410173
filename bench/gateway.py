"""Benchmark of the gateway's own cost: Switchyard vs LiteLLM's proxy vs going
straight to a fake upstream, all on loopback, measured side by side in one run.

    .venv/bin/python bench/gateway.py            # full run (~6 minutes)
    .venv/bin/python bench/gateway.py --quick    # short run (~1.5 minutes)

Needs bench/.litellm-venv (see bench/README.md); ``--no-litellm`` skips it.
Prints a table and writes bench/results/gateway-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import (
    baseline_source,
    cpu_seconds,
    free_port,
    machine,
    rss_kib,
    start,
    stop,
    wait_http,
)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = ROOT / ".venv" / "bin" / "python"  # runs the fake upstream and the load generator
SWITCHYARD = ROOT / ".venv" / "bin" / "switchyard"
LITELLM = BENCH / ".litellm-venv" / "bin" / "litellm"
KEY = "sk-bench-master-key"


@dataclass
class Target:
    name: str
    port: int
    model: str
    slow_model: str
    proc: subprocess.Popen | None = None
    results: dict = field(default_factory=dict)


# -- configs --------------------------------------------------------------------------------


def switchyard_config(path: Path, upstream: int, budget: bool = False, redis_url: str | None = None) -> None:
    base = f"http://127.0.0.1:{upstream}/v1"
    # --budget: the models are priced and the project has a budget, so every call reserves
    price = ", price: {input_per_mtok: 1, output_per_mtok: 1}" if budget else ""
    path.write_text(
        "models:\n"
        f"  - {{name: bench-model, provider: openai, base_url: '{base}', api_key: x,"
        f" model: upstream{price}}}\n"
        f"  - {{name: bench-slow, provider: openai, base_url: '{base}', api_key: x,"
        f" model: upstream-slow{price}}}\n"
        + ("metering: {project_budgets_usd: {proj_default: 1000000000}}\n" if budget else "")
        + (f"redis_url: '{redis_url}'\n" if redis_url else "")
    )


def litellm_config(path: Path, upstream: int) -> None:
    base = f"http://127.0.0.1:{upstream}/v1"
    path.write_text(
        "model_list:\n"
        "  - model_name: bench-model\n"
        f"    litellm_params: {{model: openai/upstream, api_base: '{base}', api_key: x}}\n"
        "  - model_name: bench-slow\n"
        f"    litellm_params: {{model: openai/upstream-slow, api_base: '{base}', api_key: x}}\n"
        "litellm_settings:\n"
        "  set_verbose: false\n"
        "  json_logs: false\n"
        "  turn_off_message_logging: true\n"
        "  request_timeout: 600\n"
        "general_settings:\n"
        f"  master_key: {KEY}\n"
        "  disable_spend_logs: true\n"
        "  disable_error_logs: true\n"
    )


LITELLM_ENV = {
    "LITELLM_LOG": "ERROR",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_TELEMETRY": "False",
    "DISABLE_ADMIN_UI": "True",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch from GitHub at start-up
}


# -- load -----------------------------------------------------------------------------------


def loadgen(target: Target, args: list[str], cpus: str | None, timeout: float) -> dict:
    cmd = [str(PYTHON), str(BENCH / "loadgen.py"), *args, "--port", str(target.port),
           "--key", KEY]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        sys.exit(f"loadgen failed for {target.name}: {done.stderr[-2000:]}")
    if done.stderr.strip():
        print(f"  [{target.name}] {done.stderr.strip()[:500]}", file=sys.stderr)
    return json.loads(done.stdout)


def measured(target: Target, args: list[str], opts, measure_pid: int | None) -> dict:
    cpu0 = cpu_seconds(measure_pid) if measure_pid else 0.0
    result = loadgen(target, [*args, "--model", target.model, "--duration", str(opts.duration),
                              "--warmup", str(opts.warmup)],
                     opts.client_cpus, opts.duration + opts.warmup + 120)
    if measure_pid and result["requests"]:
        # warmup included in the CPU window: scale by the measured share of requests
        cpu = cpu_seconds(measure_pid) - cpu0
        result["cpu_ms_per_request"] = 1000 * cpu / result["requests"] * (
            opts.duration / (opts.duration + opts.warmup))
    return result


def hold(target: Target, opts, pid: int) -> dict:
    cmd = [str(PYTHON), str(BENCH / "loadgen.py"), "hold", "--port", str(target.port),
           "--key", KEY, "--model", target.slow_model, "--concurrency", str(opts.streams),
           "--hold", str(opts.hold)]
    if opts.client_cpus:
        cmd = ["taskset", "-c", opts.client_cpus, *cmd]
    idle = rss_kib(pid)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stdout is not None
    peak = idle
    line = ""
    deadline = time.monotonic() + 180
    while "READY" not in line and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
    while proc.poll() is None and time.monotonic() < deadline:  # holding, then closing
        peak = max(peak, rss_kib(pid))
        time.sleep(0.2)
    out, err = proc.communicate(timeout=60)
    time.sleep(2)
    after = rss_kib(pid)
    result = json.loads(out) if out.strip() else {"error": err[-1000:]}
    result.update(rss_idle_mib=idle / 1024, rss_peak_mib=peak / 1024,
                  rss_after_close_mib=after / 1024,
                  rss_per_stream_kib=(peak - idle) / max(1, result.get("opened", 0)))
    return result


# -- report ---------------------------------------------------------------------------------


def median_of(rounds: list[dict], *keys: str) -> float | None:
    values = []
    for r in rounds:
        v = r
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            values.append(v)
    return statistics.median(values) if values else None


def fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def table(targets: list[Target], rounds: int) -> tuple[str, dict]:
    rows = [
        ("non-stream c=32 req/s", "chat32", ("rps",), 0),
        ("non-stream c=32 p50 ms", "chat32", ("latency", "p50_ms"), 2),
        ("non-stream c=32 p99 ms", "chat32", ("latency", "p99_ms"), 2),
        ("non-stream c=32 CPU ms/req", "chat32", ("cpu_ms_per_request",), 3),
        ("non-stream c=1 req/s", "chat1", ("rps",), 0),
        ("non-stream c=1 p50 ms", "chat1", ("latency", "p50_ms"), 3),
        ("non-stream c=1 p99 ms", "chat1", ("latency", "p99_ms"), 3),
        ("stream c=32 streams/s", "stream32", ("rps",), 0),
        ("stream c=32 TTFT p50 ms", "stream32", ("ttft", "p50_ms"), 2),
        ("stream c=32 TTFT p99 ms", "stream32", ("ttft", "p99_ms"), 2),
        ("stream c=32 chunks/s", "stream32", ("chunks_per_s",), 0),
        ("stream c=32 chunks/stream", "stream32", ("chunks_per_stream",), 1),
        ("stream c=32 CPU ms/stream", "stream32", ("cpu_ms_per_request",), 3),
        ("stream c=1 TTFT p50 ms", "stream1", ("ttft", "p50_ms"), 3),
        ("stream c=1 TTFT p99 ms", "stream1", ("ttft", "p99_ms"), 3),
    ]
    summary: dict = {t.name: {} for t in targets}
    width = 30
    col = 13
    lines = ["metric".ljust(width) + "".join(t.name.rjust(col) for t in targets)]
    for label, scenario, keys, digits in rows:
        cells = []
        for t in targets:
            v = median_of(t.results.get(scenario, []), *keys)
            summary[t.name][label] = v
            cells.append(fmt(v, digits).rjust(col))
        lines.append(label.ljust(width) + "".join(cells))
    direct = summary.get("direct", {})
    for label in ("non-stream c=1", "non-stream c=32", "stream c=1 TTFT"):
        for p in ("p50", "p99"):
            key = f"{label} {p} ms"
            cells = []
            for t in targets:
                v, d = summary[t.name].get(key), direct.get(key)
                added = None if t.name == "direct" or v is None or d is None else v - d
                summary[t.name][f"added {key}"] = added
                cells.append(fmt(added, 3).rjust(col))
            lines.append(f"added {key}".ljust(width) + "".join(cells))
    for t in targets:
        h = t.results.get("hold")
        if not h:
            continue
        summary[t.name]["hold"] = h
    hold_rows = [("streams open (of N)", "opened", 0), ("RSS idle MiB", "rss_idle_mib", 1),
                 ("RSS with N streams MiB", "rss_peak_mib", 1),
                 ("RSS KiB per open stream", "rss_per_stream_kib", 1),
                 ("RSS after close MiB", "rss_after_close_mib", 1),
                 ("time to open N s", "open_time_s", 2)]
    for label, key, digits in hold_rows:
        cells = [fmt((t.results.get("hold") or {}).get(key), digits).rjust(col) for t in targets]
        lines.append(label.ljust(width) + "".join(cells))
    return "\n".join(lines), summary


def ratios(summary: dict) -> dict:
    sy, ll = summary.get("switchyard"), summary.get("litellm")
    if not sy or not ll:
        return {}

    def ratio(label: str) -> float | None:
        a, b = sy.get(label), ll.get(label)
        return a / b if a and b else None

    out = {
        "throughput non-stream c=32 (SY/LL)": ratio("non-stream c=32 req/s"),
        "p99 non-stream c=32 (SY/LL)": ratio("non-stream c=32 p99 ms"),
        "throughput stream c=32 (SY/LL)": ratio("stream c=32 streams/s"),
        "TTFT p99 stream c=32 (SY/LL)": ratio("stream c=32 TTFT p99 ms"),
        "CPU per request non-stream (SY/LL)": ratio("non-stream c=32 CPU ms/req"),
    }
    out["target: >=5x LiteLLM throughput at lower p99"] = bool(
        out["throughput non-stream c=32 (SY/LL)"] and out["throughput non-stream c=32 (SY/LL)"] >= 5
        and out["p99 non-stream c=32 (SY/LL)"] and out["p99 non-stream c=32 (SY/LL)"] < 1)
    added = sy.get("added non-stream c=1 p50 ms")
    out["target: p50 overhead < 1 ms (c=1)"] = added is not None and added < 1.0
    return out


def per_round(targets: list[Target]) -> dict:
    """The target figures round by round, to show how much margin the medians have."""
    by = {t.name: t.results for t in targets}
    sy, ll, direct = by.get("switchyard"), by.get("litellm"), by.get("direct")
    out: dict = {}
    if sy and ll:
        pairs = list(zip(sy.get("chat32", []), ll.get("chat32", []), strict=False))
        out["per round: throughput non-stream c=32 (SY/LL)"] = [
            round(a["rps"] / b["rps"], 2) for a, b in pairs if b["rps"]]
        out["per round: p99 non-stream c=32 (SY/LL)"] = [
            round(a["latency"]["p99_ms"] / b["latency"]["p99_ms"], 2) for a, b in pairs
            if b["latency"]["p99_ms"]]
    if sy and direct:
        out["per round: added non-stream c=1 p50 ms"] = [
            round(a["latency"]["p50_ms"] - d["latency"]["p50_ms"], 3)
            for a, d in zip(sy.get("chat1", []), direct.get("chat1", []), strict=False)]
    return out


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short run: 1 round of 3 s, 200 streams")
    parser.add_argument("--rounds", type=int, help="rounds per scenario, targets interleaved")
    parser.add_argument("--duration", type=float, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--streams", type=int, help="open streams for the memory measurement")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold them open")
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per fast stream")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--budget", action="store_true",
                        help="Switchyard's models priced and its project budgeted: every call reserves")
    parser.add_argument("--redis", metavar="URL", help="Switchyard's redis_url (budgets kept in Redis)")
    parser.add_argument("--baseline", nargs="?", const="HEAD", metavar="REV",
                        help="also run Switchyard's src/ as of git REV (default HEAD), side by "
                             "side, to measure a change before and after; not part of the comparison")
    parser.add_argument("--experiments", action="store_true", help="same as --baseline HEAD")
    parser.add_argument("--no-pin", action="store_true",
                        help="don't pin (default: gateway on CPU 0; client + upstream on CPU 1)")
    opts = parser.parse_args()
    if opts.experiments and not opts.baseline:
        opts.baseline = "HEAD"
    opts.rounds = opts.rounds or (1 if opts.quick else 3)
    opts.duration = opts.duration or (3.0 if opts.quick else 10.0)
    opts.streams = opts.streams or (200 if opts.quick else 1000)
    pin = not opts.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    gateway_cpus = "0" if pin else None
    opts.client_cpus = "1" if pin else None

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by every child
    if hard < opts.streams * 3:
        sys.exit(f"ulimit -n hard limit {hard} is too low for {opts.streams} streams")
    if not opts.no_litellm and not LITELLM.exists():
        sys.exit(f"{LITELLM} missing: see bench/README.md, or pass --no-litellm")

    work = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWITCHYARD_", "LITELLM_", "DATABASE_URL", "OPENAI_"))}
    procs: list[subprocess.Popen] = []
    try:
        upstream_port = free_port()
        fake = start([str(PYTHON), str(BENCH / "fake_upstream.py"), "--port", str(upstream_port),
                      "--chunks", str(opts.chunks), "--slow-chunks", "600"],
                     work / "fake.log", env, opts.client_cpus)
        procs.append(fake)
        wait_http(f"http://127.0.0.1:{upstream_port}/health", fake, work / "fake.log")
        targets = [Target("direct", upstream_port, "upstream", "upstream-slow", fake)]

        sy_port = free_port()
        switchyard_config(work / "switchyard.yaml", upstream_port, opts.budget, opts.redis)
        sy_env = {**env, "SWITCHYARD_MASTER_KEY": KEY,
                  "SWITCHYARD_DATA_DIR": str(work / "sy-data")}
        sy = start([str(SWITCHYARD), "serve", "--config", str(work / "switchyard.yaml"),
                    "--port", str(sy_port), "--log-level", "warning"],
                   work / "switchyard.log", sy_env, gateway_cpus)
        procs.append(sy)
        wait_http(f"http://127.0.0.1:{sy_port}/health", sy, work / "switchyard.log")
        targets.append(Target("switchyard", sy_port, "bench-model", "bench-slow", sy))

        if opts.baseline:
            src = baseline_source(opts.baseline, work / "baseline")
            ex_port = free_port()
            name = f"sy@{opts.baseline}"[:11]
            ex = start([str(SWITCHYARD), "serve", "--config", str(work / "switchyard.yaml"),
                        "--port", str(ex_port), "--log-level", "warning"],
                       work / "sy-baseline.log",
                       {**sy_env, "PYTHONPATH": str(src),
                        "SWITCHYARD_DATA_DIR": str(work / "sy-baseline-data")}, gateway_cpus)
            procs.append(ex)
            wait_http(f"http://127.0.0.1:{ex_port}/health", ex, work / "sy-baseline.log")
            targets.insert(1, Target(name, ex_port, "bench-model", "bench-slow", ex))

        if not opts.no_litellm:
            ll_port = free_port()
            litellm_config(work / "litellm.yaml", upstream_port)
            ll = start([str(LITELLM), "--config", str(work / "litellm.yaml"), "--host",
                        "127.0.0.1", "--port", str(ll_port), "--num_workers", "1"],
                       work / "litellm.log", {**env, **LITELLM_ENV}, gateway_cpus)
            procs.append(ll)
            wait_http(f"http://127.0.0.1:{ll_port}/health/liveliness", ll, work / "litellm.log",
                      timeout=180)
            targets.append(Target("litellm", ll_port, "bench-model", "bench-slow", ll))

        print(f"targets up; logs in {work}; {opts.rounds} round(s) x {opts.duration:g}s"
              f"{'; pinned gateway->CPU0, client+upstream->CPU1' if pin else ''}", flush=True)
        scenarios = [
            ("chat32", ["chat", "--concurrency", "32"]),
            ("chat1", ["chat", "--concurrency", "1"]),
            ("stream32", ["chat", "--stream", "--concurrency", "32"]),
            ("stream1", ["chat", "--stream", "--concurrency", "1"]),
        ]
        for r in range(opts.rounds):
            for name, args in scenarios:
                for t in targets:
                    pid = t.proc.pid if t.proc else None
                    res = measured(t, args, opts, pid)
                    t.results.setdefault(name, []).append(res)
                    print(f"round {r + 1} {name:9s} {t.name:11s} {res['rps']:9.0f} req/s "
                          f"p50 {res['latency']['p50_ms']:.2f} ms p99 "
                          f"{res['latency']['p99_ms']:.2f} ms errors {res['errors']}", flush=True)
        for t in targets[1:]:
            assert t.proc is not None
            t.results["hold"] = hold(t, opts, t.proc.pid)
            print(f"hold {t.name}: {t.results['hold']}", flush=True)

        text, summary = table(targets, opts.rounds)
        ratio = ratios(summary)
        ratio.update(per_round(targets))
        print()
        print(text)
        for k, v in ratio.items():
            print(f"{k}: {v if isinstance(v, bool | list) else fmt(v, 2)}")
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = results_dir / f"gateway-{stamp}{'-quick' if opts.quick else ''}.json"
        out.write_text(json.dumps({
            "machine": machine(), "options": {k: v for k, v in vars(opts).items()},
            "summary": summary, "ratios": ratio, "table": text,
            "raw": {t.name: t.results for t in targets},
        }, indent=2, default=str))
        print(f"\nwrote {out}")
    finally:
        for p in reversed(procs):
            stop(p)


if __name__ == "__main__":
    main()
