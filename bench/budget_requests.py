"""Whole requests with a budget on, per budget store: one Switchyard with reservations in
memory and one with them in Redis, side by side over bench/fake_upstream.py, sequential
non-streaming chat completions, the two servers interleaved round by round.

    python -m bench.budget_requests [--requests 300] [--rounds 2] [--redis redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
KEY = "sk-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def serve(work: Path, upstream: int, extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    work.mkdir()
    (work / "switchyard.yaml").write_text(
        f"models:\n  - {{name: m, provider: openai, base_url: 'http://127.0.0.1:{upstream}/v1', api_key: x,"
        " model: upstream, price: {input_per_mtok: 1, output_per_mtok: 1}}\n"
        "metering: {project_budgets_usd: {proj_default: 1000000000}}\n" + extra)
    env = {**os.environ, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / "data")}
    process = subprocess.Popen([sys.executable, "-m", "switchyard.cli", "serve", "--config",
                                str(work / "switchyard.yaml"), "--port", str(port), "--log-level", "warning"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(f"http://127.0.0.1:{port}/health")
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    upstream = free_port()
    fake = subprocess.Popen([sys.executable, str(BENCH / "fake_upstream.py"), "--port", str(upstream)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes = [fake]
    try:
        wait(f"http://127.0.0.1:{upstream}/health")
        with tempfile.TemporaryDirectory() as tmp:
            servers = {}
            for name, extra in (("memory", ""), ("redis", f"redis_url: '{args.redis}'\n")):
                process, port = serve(Path(tmp) / name, upstream, extra)
                processes.append(process)
                servers[name] = port
            body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}
            with httpx.Client(headers={"authorization": f"Bearer {KEY}"}) as client:
                for rnd in range(args.rounds):
                    for name, port in servers.items():
                        times = []
                        for _ in range(args.requests):
                            started = time.perf_counter()
                            answer = client.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body)
                            times.append(time.perf_counter() - started)
                            assert answer.headers["x-switchyard-cost-usd"] != "0", answer.text
                        print(f"round {rnd + 1} {name:6} request p50 {statistics.median(times) * 1000:6.2f} ms")
    finally:
        for process in processes:
            process.terminate()


if __name__ == "__main__":
    main()
