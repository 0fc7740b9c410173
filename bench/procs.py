"""Processes for the benchmarks: ports, starting and stopping servers, waiting for
them, reading their memory and CPU, and describing the machine."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return pids


def rss_kib(pid: int) -> int:
    """VmRSS summed over the process and its children (LiteLLM may fork)."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / TICKS


def start(cmd: list[str], log: Path, env: dict[str, str], cpus: str | None,
          cwd: Path | None = None) -> subprocess.Popen:
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    handle = log.open("wb")
    return subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, cwd=cwd)


class RssSampler:
    """Samples the RSS of named process trees every ``interval`` seconds in a thread, for the
    whole run: ``series[name]`` is a list of (seconds since start, MiB)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.series: dict[str, list[tuple[float, float]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def watch(self, name: str, pid: int) -> None:
        self.pids[name] = pid
        self.series.setdefault(name, [])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            now = round(time.monotonic() - self._t0, 1)
            for name, pid in list(self.pids.items()):
                kib = rss_kib(pid)
                if kib:
                    self.series[name].append((now, round(kib / 1024, 1)))


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"process for {url} exited ({proc.returncode}); see {log}:\n"
                     + log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"{url} not up after {timeout}s; see {log}")


def baseline_source(rev: str, dest: Path) -> Path:
    """``src/`` as of git ``rev``, extracted (read-only for the repository) into ``dest``;
    put first on PYTHONPATH it shadows the editable install of the working tree."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def server_pid(proc: subprocess.Popen) -> int:
    """The pid to measure: with taskset the server is exec'd in place, so Popen's pid."""
    return proc.pid


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    return {"nproc": os.cpu_count(), "cpu": cpu, "free_h": free,
            "kernel": platform.release(), "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}


# -- a Switchyard over the fake upstream ----------------------------------------------------


def run_over_fake_upstream(name: str, model: str, key: str, measure: Callable[[str], dict]) -> dict:
    """Serves ``model`` from bench/fake_upstream.py through a Switchyard on free ports, runs
    ``measure(base_url)``, stops both, and saves the result (with the machine) under
    bench/results/NAME-<time>.json."""
    work = Path(tempfile.mkdtemp(prefix=f"sy-bench-{name}-"))
    upstream_port, server_port = free_port(), free_port()
    upstream = start([sys.executable, str(ROOT / "bench/fake_upstream.py"), "--port", str(upstream_port)],
                     work / "upstream.log", {}, None)
    config = work / "switchyard.yaml"
    config.write_text(json.dumps({"models": [{"name": model, "provider": "openai",
                                              "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                                              "api_key": "x", "model": "upstream"}],
                                  "log_level": "warning"}))
    env = {**os.environ, "SWITCHYARD_MASTER_KEY": key, "SWITCHYARD_DATA_DIR": str(work / "data")}
    server = start([sys.executable, "-m", "switchyard.cli", "serve", "--config", str(config), "--port",
                    str(server_port)], work / "server.log", env, None)
    try:
        wait_http(f"http://127.0.0.1:{upstream_port}/health", upstream, work / "upstream.log")
        wait_http(f"http://127.0.0.1:{server_port}/health", server, work / "server.log")
        result = measure(f"http://127.0.0.1:{server_port}")
    finally:
        stop(server)
        stop(upstream)
    result["machine"] = machine()
    print(json.dumps(result, indent=2))
    out = ROOT / "bench/results"
    out.mkdir(exist_ok=True)
    (out / f"{name}-{int(time.time())}.json").write_text(json.dumps(result, indent=2))
    return result
