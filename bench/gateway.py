"""Benchmark of the gateway's own cost, all on loopback against one fake upstream, measured
side by side in one run: Switchyard with its gateway features on (stored project key, rate
limits in-process and in Redis, usage ledger, /metrics, as far as the build has them),
LiteLLM's proxy configured the closest way it can be here, the Portkey gateway (Node), and
going straight to the upstream.

    bench/install_peers.sh                        # once: the peers, into ~/.cache/switchyard-bench
    .venv/bin/python bench/gateway.py             # full run (~25 minutes)
    .venv/bin/python bench/gateway.py --quick     # short run (~5 minutes)

Switchyard runs from this checkout's src/. Prints a table, what each target had on, and
writes bench/results/gateway-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_report
import peers
import sy_features
from procs import (
    RssSampler,
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
PYTHON = Path(sys.executable)  # the project's venv: runs Switchyard, the upstream and the client
SWITCHYARD = PYTHON.parent / "switchyard"
KEY = "sk-bench-master-key"


@dataclass
class Target:
    name: str
    port: int
    model: str
    slow_model: str
    key: str = KEY
    headers: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    results: dict = field(default_factory=dict)
    features: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# -- load -----------------------------------------------------------------------------------


def loadgen(target: Target, args: list[str], cpus: str | None, timeout: float) -> dict:
    cmd = [str(PYTHON), str(BENCH / "loadgen.py"), *args, "--port", str(target.port),
           "--key", target.key]
    for h in target.headers:
        cmd += ["--header", h]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        sys.exit(f"loadgen failed for {target.name}: {done.stderr[-2000:]}")
    if done.stderr.strip():
        print(f"  [{target.name}] {done.stderr.strip()[:500]}", file=sys.stderr)
    return json.loads(done.stdout)


def measured(target: Target, args: list[str], opts) -> dict:
    pid = target.proc.pid if target.proc else None
    cpu0 = cpu_seconds(pid) if pid else 0.0
    result = loadgen(target, [*args, "--model", target.model, "--duration", str(opts.duration),
                              "--warmup", str(opts.warmup)],
                     opts.client_cpus, opts.duration + opts.warmup + 120)
    if pid and result["requests"]:
        # warmup included in the CPU window: scale by the measured share of time
        cpu = cpu_seconds(pid) - cpu0
        result["cpu_ms_per_request"] = 1000 * cpu / result["requests"] * (
            opts.duration / (opts.duration + opts.warmup))
    return result


def soak(target: Target, opts, sampler: RssSampler) -> dict:
    """An hour-equivalent of requests (``--soak-requests``, closed loop c=32, at most
    ``--soak-max`` seconds), RSS sampled throughout: does memory keep growing?"""
    assert target.proc is not None
    t0 = len(sampler.series.get(target.name, []))
    start_mib = rss_kib(target.proc.pid) / 1024
    result = loadgen(target, ["chat", "--concurrency", "32", "--model", target.model,
                              "--duration", str(opts.soak_max), "--warmup", "0",
                              "--max-requests", str(opts.soak_requests)],
                     opts.client_cpus, opts.soak_max + 180)
    time.sleep(1.5)
    end_mib = rss_kib(target.proc.pid) / 1024
    samples = [mib for _, mib in sampler.series.get(target.name, [])[t0:]] or [end_mib]
    half = samples[len(samples) // 2]
    run = [mib for _, mib in sampler.series.get(target.name, [])]
    return {"requests": result["requests"], "errors": result["errors"], "rps": result["rps"],
            "elapsed_s": result["elapsed_s"], "rss_start_mib": start_mib, "rss_end_mib": end_mib,
            "rss_half_mib": half, "rss_growth_second_half_mib": end_mib - half,
            "rss_max_run_mib": max(run) if run else None}


def hold(target: Target, opts) -> dict:
    """Many slow streams open at once: RSS per open stream."""
    assert target.proc is not None
    pid = target.proc.pid
    cmd = [str(PYTHON), str(BENCH / "loadgen.py"), "hold", "--port", str(target.port),
           "--key", target.key, "--model", target.slow_model, "--concurrency", str(opts.streams),
           "--hold", str(opts.hold)]
    for h in target.headers:
        cmd += ["--header", h]
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
    opened = result.get("opened")
    result.update(rss_idle_mib=idle / 1024, rss_peak_mib=peak / 1024,
                  rss_after_close_mib=after / 1024,
                  rss_per_stream_kib=(peak - idle) / opened if opened else None)
    return result


# -- targets --------------------------------------------------------------------------------


def start_switchyard(name: str, work: Path, upstream: int, env: dict[str, str], cpus: str | None,
                     redis: bool, bare: bool = False, src: Path | None = None,
                     budget: bool = False, redis_url: str | None = None) -> Target:
    """A Switchyard with every feature its build has on (``bare``: the master key and the
    models only), provisioned through its admin API, and what turned out to be on."""
    sy_env = {**env, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / f"{name}-data"),
              "PYTHONPATH": str(src or ROOT / "src")}
    fields = sy_features.build_fields(str(PYTHON), sy_env)
    cfg, notes = sy_features.config(upstream, fields, redis and not bare, redis_url)
    if bare:
        cfg = sy_features.config(upstream, {}, False)[0]
        notes = {"features": "off (bare: master key, models only)"}
    if budget:  # every call reserves and settles, against the master key's project
        for model in cfg["models"]:
            model["price"] = {"input_per_mtok": 1, "output_per_mtok": 1}
        cfg["metering"] = {"project_budgets_usd": {"proj_default": 1_000_000_000}}
        notes["budget"] = "on: priced models, proj_default budgeted (calls use the master key)"
        bare = True  # the budget is the master key's project's: no stored key
    config_path = work / f"{name}.yaml"
    config_path.write_text(json.dumps(cfg, indent=2))  # JSON is YAML
    sy_env["SWITCHYARD_CONFIG"] = str(config_path)
    store_url = cfg.get("redis_url", sy_features.SY_REDIS)
    redis_before = sy_features.redis_keys(store_url) if redis else None
    port = free_port()
    proc = start([str(SWITCHYARD), "serve", "--config", str(config_path), "--port", str(port),
                  "--log-level", "warning"], work / f"{name}.log", sy_env, cpus)
    target = Target(name, port, "bench-model", "bench-slow", proc=proc)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc, work / f"{name}.log")
        if not bare:
            provision_and_check(target, notes, sy_env, redis_before if "redis_url" in cfg else None,
                                store_url)
    except BaseException:
        stop(proc)
        raise
    target.features = notes
    return target


def provision_and_check(target: Target, notes: dict[str, str], sy_env: dict[str, str],
                        redis_before: int | None, store_url: str) -> None:
    """Stored key and limits through the admin API, then what answers show is on. An answer
    of a shape this script does not expect is reported, not fatal."""
    try:
        target.key, more = sy_features.provision(target.base, KEY, [str(SWITCHYARD)], sy_env)
        notes.update(more)
    except Exception as exc:  # a build mid-change: report, measure with the master key
        notes["stored key"] = f"off: provisioning failed: {exc!r}"[:300]
        target.key = KEY
    try:
        notes.update(sy_features.check_headers(target.base, target.key, target.model))
        notes["metrics"] = sy_features.check_metrics(target.base, KEY)
    except Exception as exc:
        notes["checks"] = f"failed: {exc!r}"[:300]
    if redis_before is not None:
        after = sy_features.redis_keys(store_url)
        notes["limits store (Redis keys written)"] = (
            f"{(after or 0) - redis_before:+d} keys in {store_url} after one request")


def start_peer(name: str, setup: peers.PeerSetup, port: int, work: Path, env: dict[str, str],
               cpus: str | None) -> Target:
    proc = start(setup.cmd, work / f"{name}.log", {**env, **setup.env}, cpus, cwd=setup.cwd)
    wait_http(f"http://127.0.0.1:{port}{setup.health_path}", proc, work / f"{name}.log", timeout=180)
    return Target(name, port, setup.model, setup.slow_model, headers=setup.headers, proc=proc,
                  features=dict(setup.features))


def check_peer(target: Target) -> None:
    """What the peer's configuration turned out to do at run time."""
    if target.name == "litellm":
        target.features["metrics (run time)"] = sy_features.check_metrics(target.base, KEY)


# -- main -----------------------------------------------------------------------------------


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s, short soak, 200 streams")
    parser.add_argument("--rounds", type=int, help="rounds per scenario, targets interleaved")
    parser.add_argument("--duration", type=float, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=10.0,
                        help="the fixed load (requests/s, open loop) for added latency; LiteLLM "
                             "with limits and Redis on served ~20 req/s here, so higher saturates it")
    parser.add_argument("--soak-requests", type=int,
                        help="requests in the memory soak (default 36,000: an hour at 10 req/s)")
    parser.add_argument("--soak-max", type=float, help="seconds the soak may take per target")
    parser.add_argument("--streams", type=int, help="open streams for the memory measurement")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold them open")
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per fast stream")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--no-portkey", action="store_true")
    parser.add_argument("--no-redis", action="store_true", help="skip the Switchyard with redis_url")
    parser.add_argument("--redis", metavar="URL", help=f"redis_url of sy+redis (default {sy_features.SY_REDIS})")
    parser.add_argument("--budget", action="store_true",
                        help="Switchyard's models priced and the master key's project budgeted, so "
                             "every call reserves and settles (calls then use the master key)")
    parser.add_argument("--bare", action="store_true",
                        help="also a Switchyard with no gateway feature on (the features' cost)")
    parser.add_argument("--no-hold", action="store_true", help="skip the open-streams measurement")
    parser.add_argument("--floor", action="store_true",
                        help="also bench/floor_proxy.py (Switchyard's stack relaying bytes, no feature) and "
                             "nginx relaying bytes")
    parser.add_argument("--baseline", nargs="?", const="HEAD", metavar="REV",
                        help="also run Switchyard's src/ as of git REV (default HEAD), side by "
                             "side, to measure a change before and after; not part of the comparison")
    parser.add_argument("--experiments", action="store_true", help="same as --baseline HEAD")
    parser.add_argument("--no-pin", action="store_true",
                        help="don't pin (default: gateways on CPU 0; client + upstream on CPU 1)")
    opts = parser.parse_args()
    if opts.experiments and not opts.baseline:
        opts.baseline = "HEAD"
    opts.rounds = opts.rounds or (1 if opts.quick else 3)
    opts.duration = opts.duration or (3.0 if opts.quick else 10.0)
    opts.streams = opts.streams or (200 if opts.quick else 1000)
    opts.soak_requests = opts.soak_requests or (3000 if opts.quick else 36000)
    opts.soak_max = opts.soak_max or (30.0 if opts.quick else 240.0)
    return opts


def start_targets(targets: list[Target], opts, work: Path, env: dict[str, str],
                  cpus: str | None) -> None:
    """The fake upstream ("direct") and every gateway, up and provisioned, appended to
    ``targets`` as each starts (so that a failure still stops those already running)."""
    upstream = free_port()
    fake = start([str(PYTHON), str(BENCH / "fake_upstream.py"), "--port", str(upstream),
                  "--chunks", str(opts.chunks), "--slow-chunks", "600"],
                 work / "fake.log", env, opts.client_cpus)
    targets.append(Target("direct", upstream, "upstream", "upstream-slow", proc=fake))
    wait_http(f"http://127.0.0.1:{upstream}/health", fake, work / "fake.log")
    if opts.bare:
        targets.append(start_switchyard("sy-bare", work, upstream, env, cpus, False, bare=True))
    main_sy = start_switchyard("switchyard", work, upstream, env, cpus, redis=False,
                               budget=opts.budget)
    targets.append(main_sy)
    if not opts.no_redis:
        sy_redis = start_switchyard("sy+redis", work, upstream, env, cpus, redis=True,
                                    budget=opts.budget, redis_url=opts.redis)
        targets.append(sy_redis)
        if sy_redis.features.get("limits store", "").startswith("off"):
            print(f"sy+redis skipped: {sy_redis.features['limits store']}", flush=True)
            main_sy.features["limits store (Redis)"] = sy_redis.features["limits store"]
            stop(targets.pop().proc)
    if opts.baseline:
        src = baseline_source(opts.baseline, work / "baseline")
        targets.insert(1, start_switchyard(f"sy@{opts.baseline}"[:11], work, upstream, env, cpus,
                                           False, src=src))
    if opts.floor:
        port = free_port()
        targets.append(start_peer("floor", peers.floor(port, upstream, PYTHON), port, work, env, cpus))
        if peers.NGINX.exists():
            port = free_port()
            targets.append(start_peer("nginx", peers.nginx(port, upstream, work), port, work, env, cpus))
    if not opts.no_litellm:
        port = free_port()
        targets.append(start_peer("litellm", peers.litellm(work, port, upstream, KEY), port,
                                  work, env, cpus))
    if not opts.no_portkey:
        port = free_port()
        targets.append(start_peer("portkey", peers.portkey(port, upstream), port, work, env, cpus))
    for t in targets[1:]:
        check_peer(t)


SCENARIOS = {
    "chat32": ["chat", "--concurrency", "32"],
    "chat1": ["chat", "--concurrency", "1"],
    "rate": ["rate", "--concurrency", "64"],  # + --rate
    "stream32": ["chat", "--stream", "--concurrency", "32"],
    "stream1": ["chat", "--stream", "--concurrency", "1"],
}


def run(targets: list[Target], opts, sampler: RssSampler, run_start: float) -> None:
    """Every scenario on every target, interleaved, round after round; then the soak, the open
    streams, and what the ledgers recorded."""
    for r in range(opts.rounds):
        for name, args in SCENARIOS.items():
            if name == "rate":
                args = [*args, "--rate", str(opts.rate)]
            for t in targets:
                res = measured(t, args, opts)
                t.results.setdefault(name, []).append(res)
                print(f"round {r + 1} {name:9s} {t.name:11s} {res['rps']:9.0f} req/s "
                      f"p50 {res['latency']['p50_ms'] or 0:.2f} ms p99 "
                      f"{res['latency']['p99_ms'] or 0:.2f} ms errors {res['errors']}", flush=True)
    gateways = targets[1:]
    for t in gateways:
        t.results["soak"] = soak(t, opts, sampler)
        print(f"soak {t.name}: {t.results['soak']}", flush=True)
        if t.name == "litellm":  # its counters live 60 s: count them right after its traffic
            t.features["limits store (run time)"] = (
                f"{sy_features.redis_keys(peers.LITELLM_REDIS)} rpm/tpm counter keys in Redis db 14")
    if not opts.no_hold:
        for t in gateways:
            t.results["hold"] = hold(t, opts)
            print(f"hold {t.name}: {t.results['hold']}", flush=True)
    for t in gateways:
        if t.name.startswith(("switchyard", "sy+")):
            sy_features.wait_settled()
            soaked, held = t.results["soak"], t.results.get("hold") or {}
            checked = 1 if "limits (headers on answers)" in t.features else 0  # the check request
            served = checked + sum(r["requests"] + r["errors"] + r.get("warmup_requests", 0)
                             for rs in t.results.values() if isinstance(rs, list) for r in rs)
            served += soaked["requests"] + soaked["errors"] + (held.get("opened") or 0)
            try:
                t.features["ledger"] = sy_features.check_ledger(t.base, KEY, run_start, served)
            except Exception as exc:  # an answer of another shape: report it
                t.features["ledger"] = f"unknown: {exc!r}"[:300]


def report(targets: list[Target], opts, sampler: RssSampler) -> Path:
    text, summary = gateway_report.table(targets, opts.rate)
    ratio = gateway_report.ratios(summary, opts.rate)
    ratio.update(gateway_report.per_round(targets))
    print()
    print(text)
    for k, v in ratio.items():
        print(f"{k}: {v}")
    print("\nwhat was on:")
    for t in targets[1:]:
        print(f"  {t.name}:")
        for k, v in t.features.items():
            print(f"    {k}: {v}")
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = results_dir / f"gateway-{stamp}{'-quick' if opts.quick else ''}.json"
    out.write_text(json.dumps({
        "machine": machine(), "options": {k: v for k, v in vars(opts).items()},
        "git": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip(),
        "features": {t.name: t.features for t in targets[1:]},
        "summary": summary, "ratios": ratio, "table": text, "rss_series": sampler.series,
        "raw": {t.name: t.results for t in targets},
    }, indent=2, default=str))
    print(f"\nwrote {out}")
    return out


def main() -> None:
    opts = options()
    # stop every server on Ctrl-C or kill, also when started in the background (SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    pin = not opts.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset")
    gateway_cpus = "0" if pin else None
    opts.client_cpus = "1" if pin else None
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by every child
    if hard < opts.streams * 3:
        sys.exit(f"ulimit -n hard limit {hard} is too low for {opts.streams} streams")
    have = peers.installed()
    for name in ("litellm", "portkey"):
        if not getattr(opts, f"no_{name}") and not have[name]:
            sys.exit(f"{name} is not installed in {peers.CACHE}: run bench/install_peers.sh "
                     f"(or pass --no-{name})")
    work = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWITCHYARD_", "LITELLM_", "DATABASE_URL", "OPENAI_", "PYTHONPATH"))}
    targets: list[Target] = []
    sampler = RssSampler()
    run_start = time.time()
    try:
        start_targets(targets, opts, work, env, gateway_cpus)
        for t in targets[1:]:
            assert t.proc is not None
            sampler.watch(t.name, t.proc.pid)
        sampler.start()
        print(f"targets up; logs in {work}; {opts.rounds} round(s) x {opts.duration:g}s"
              f"{'; pinned gateways->CPU0, client+upstream->CPU1' if pin else ''}", flush=True)
        for t in targets[1:]:
            print(f"  {t.name}: " + "; ".join(f"{k}: {v}" for k, v in t.features.items()), flush=True)
        run(targets, opts, sampler, run_start)
        sampler.stop()
        report(targets, opts, sampler)
    finally:
        sampler.stop()
        for t in reversed(targets):
            stop(t.proc)


if __name__ == "__main__":
    main()
