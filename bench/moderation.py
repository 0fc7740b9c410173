"""The embedded moderation classifier and the guardrail: what they cost per request.

- ``raw``: ``profanity_check.predict_prob`` on one sentence, in this process;
- ``moderations``: ``POST /v1/moderations`` with that sentence, through Switchyard;
- ``chat``: a non-streaming chat completion over bench/fake_upstream.py from a project
  without a guardrail, and from one whose guardrail (``log``) screens the same sentence.

Sequential requests, medians; the servers' logs are discarded.

    python -m bench.moderation [--requests 300] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.budget_requests import BENCH, KEY, free_port, wait

SENTENCE = "The weather is lovely today; let's take the children for a walk in the park."


def serve(work: Path, upstream: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    work.mkdir()
    (work / "switchyard.yaml").write_text(
        f"models:\n  - {{name: m, provider: openai, base_url: 'http://127.0.0.1:{upstream}/v1', api_key: x,"
        " model: upstream}\n  - {name: profanity-check, provider: local, task: moderation}\n")
    env = {**os.environ, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / "data")}
    process = subprocess.Popen([sys.executable, "-m", "switchyard.cli", "serve", "--config",
                                str(work / "switchyard.yaml"), "--port", str(port), "--log-level", "warning"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(f"http://127.0.0.1:{port}/health")
    for _ in range(300):
        if httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
            break
        time.sleep(0.1)
    return process, port


def project_key(client: httpx.Client, base: str, guardrail: dict[str, str] | None) -> str:
    project = client.post(f"{base}/v1/organization/projects", json={"name": "bench"}).json()["id"]
    if guardrail is not None:
        client.post(f"{base}/v1/organization/projects/{project}/moderation", json=guardrail).raise_for_status()
    return str(client.post(f"{base}/v1/organization/projects/{project}/api_keys", json={"name": "k"}).json()["value"])


def timed(requests: int, *calls: Callable[[], object]) -> list[tuple[float, float]]:
    """(median, minimum) milliseconds of each call, the calls interleaved request by request
    (so that load from elsewhere falls on all of them alike)."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(requests):
        for call, spent in zip(calls, times, strict=True):
            started = time.perf_counter()
            call()
            spent.append(time.perf_counter() - started)
    return [(statistics.median(t) * 1000, min(t) * 1000) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from profanity_check import predict_prob

    upstream = free_port()
    fake = subprocess.Popen([sys.executable, str(BENCH / "fake_upstream.py"), "--port", str(upstream)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes = [fake]
    try:
        wait(f"http://127.0.0.1:{upstream}/health")
        with tempfile.TemporaryDirectory() as tmp, httpx.Client(headers={"authorization": f"Bearer {KEY}"}) as admin:
            process, port = serve(Path(tmp) / "sy", upstream)
            processes.append(process)
            base = f"http://127.0.0.1:{port}"
            plain, guarded = project_key(admin, base, None), project_key(admin, base, {"mode": "log"})
            chat = {"model": "m", "messages": [{"role": "user", "content": SENTENCE}], "max_tokens": 10}

            def post(key: str, path: str, body: dict) -> None:
                answer = admin.post(base + path, json=body, headers={"authorization": f"Bearer {key}"})
                assert answer.status_code == 200, answer.text

            print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
            for rnd in range(args.rounds):
                figures = timed(args.requests, lambda: predict_prob([SENTENCE]),
                                lambda: post(plain, "/v1/moderations", {"input": SENTENCE}),
                                lambda: post(plain, "/v1/chat/completions", chat),
                                lambda: post(guarded, "/v1/chat/completions", chat))
                names = ("raw classifier", "/v1/moderations", "chat, no guardrail", "chat, guardrail (log)")
                print(f"round {rnd + 1}: " + " | ".join(
                    f"{n} p50 {p50:.2f} ms (min {low:.2f})" for n, (p50, low) in zip(names, figures, strict=True)))
            print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        for process in processes:
            process.terminate()


if __name__ == "__main__":
    main()
