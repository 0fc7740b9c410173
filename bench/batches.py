"""Batch throughput against the upstream's concurrency cap: one Switchyard (SQLite) over a
loopback Chat Completions upstream that answers each request after a fixed latency; a
batch of N lines through the official SDK for each ``concurrency_per_batch``; lines per
second against the ceiling cap / latency, the most requests the upstream held at once (and
the most batch lines, which must never pass the cap), the mean number of batch lines in
flight over the run against the cap (how well the batch fills it), and
the latency of interactive requests sent while the batch runs.

    PYTHONPATH=src python -m bench.batches [--lines 400] [--latency 0.05] [--caps 1,4,16]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY = "sk-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Upstream:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0
        self.batch_in_flight = 0  # batch lines only (not the interactive requests)
        self.batch_max = 0
        self.batch_area = 0.0  # integral of batch_in_flight over time, for the mean
        self.since = time.monotonic()
        self.port = free_port()

    def reset(self) -> None:
        self.max_in_flight = self.batch_max = 0
        self.batch_area, self.since = 0.0, time.monotonic()

    def _batch(self, delta: int) -> None:
        now = time.monotonic()
        self.batch_area += self.batch_in_flight * (now - self.since)
        self.since = now
        self.batch_in_flight += delta
        self.batch_max = max(self.batch_max, self.batch_in_flight)

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        text = body["messages"][-1]["content"]
        line = text != "live"
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if line:
            self._batch(1)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
            if line:
                self._batch(-1)
        return JSONResponse({
            "id": "chatcmpl-b", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"echo:{text}"},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})

    def start(self) -> None:
        app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                               lifespan="off"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.01)


def serve(work: Path, upstream: Upstream, cap: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (work / "switchyard.yaml").write_text(json.dumps({
        "models": [{"name": "m", "provider": "openai", "base_url": f"http://127.0.0.1:{upstream.port}/v1",
                    "api_key": "x", "model": "up"}],
        "batches": {"concurrency_per_batch": cap, "concurrency_per_model": cap, "progress_log_every": 1000},
    }))
    env = {**os.environ, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / "data")}
    process = subprocess.Popen([sys.executable, "-m", "switchyard.cli", "serve", "--config",
                                str(work / "switchyard.yaml"), "--port", str(port), "--log-level", "warning"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/ready").status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("switchyard never got ready")


def run(upstream: Upstream, cap: int, lines: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = serve(Path(tmp), upstream, cap)
        try:
            client = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=600)
            data = "".join(json.dumps({"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
                                       "body": {"model": "m", "messages": [{"role": "user", "content": f"q{n}"}]}})
                           + "\n" for n in range(lines)).encode()
            file_id = client.files.create(file=("in.jsonl", io.BytesIO(data)), purpose="batch").id
            upstream.reset()
            started = time.monotonic()
            batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions",
                                          completion_window="24h")
            interactive: list[float] = []
            while batch.status not in ("completed", "failed", "cancelled", "expired"):
                sent = time.monotonic()
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "live"}])
                interactive.append(time.monotonic() - sent)
                time.sleep(0.2)
                batch = client.batches.retrieve(batch.id)
            seconds = time.monotonic() - started
            upstream._batch(0)
            assert batch.status == "completed" and batch.request_counts is not None
            return {"cap": cap, "lines": lines, "seconds": round(seconds, 2),
                    "lines_per_s": round(lines / seconds, 1), "ceiling_per_s": round(cap / upstream.latency, 1),
                    "max_upstream_in_flight": upstream.max_in_flight,
                    "max_batch_lines_in_flight": upstream.batch_max,
                    "mean_batch_lines_in_flight": round(upstream.batch_area / seconds, 2),
                    "cap_use": round(upstream.batch_area / seconds / cap, 3),
                    "completed": batch.request_counts.completed,
                    "interactive_p50_ms": round(statistics.median(interactive) * 1000, 1) if interactive else None,
                    "interactive_max_ms": round(max(interactive) * 1000, 1) if interactive else None}
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--caps", default="1,4,16")
    args = parser.parse_args()
    upstream = Upstream(args.latency)
    upstream.start()
    for cap in (int(c) for c in args.caps.split(",")):
        print(json.dumps(run(upstream, cap, args.lines)), flush=True)


if __name__ == "__main__":
    main()
