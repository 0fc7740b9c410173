"""What an Assistants run costs over a bare model call, measured by hand (never from the tests).

The same one-turn answer from the fast fake upstream (bench/fake_upstream.py), SQLite
store, one Switchyard process, the official SDK as client, --calls times each, one after
another:

1. bare: a streamed Chat Completion, to its last chunk;
2. run, streamed: ``runs.create(stream=True)`` on a thread holding one message, to
   ``thread.run.completed`` (the run, its step and its message are stored on the way);
3. run, polled: ``runs.create_and_poll`` (a worker claims the queued run; the SDK polls
   at the ``openai-poll-after-ms`` the server answers, 200 ms);
4. background throughput: --jobs runs created at once on their own threads, runs/s
   until all are completed, through the job runner.

Run: .venv/bin/python bench/assistants_runs.py [--calls 50] [--jobs 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import run_over_fake_upstream

KEY = "sk-bench"
MODEL = "bench-model"
warnings.filterwarnings("ignore", category=DeprecationWarning)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(ms), 2), "p99": round(pct(ms, 99), 2)}


async def bare(client: openai.AsyncOpenAI, calls: int) -> list[float]:
    out = []
    for n in range(calls):
        t0 = time.perf_counter()
        stream = await client.chat.completions.create(model=MODEL, stream=True,
                                                      messages=[{"role": "user", "content": f"question {n}"}])
        async for _ in stream:
            pass
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def streamed_runs(client: openai.AsyncOpenAI, assistant_id: str, calls: int) -> list[float]:
    out = []
    for n in range(calls):
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": f"question {n}"}])
        t0 = time.perf_counter()
        stream = await client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant_id, stream=True)
        last = None
        async for event in stream:
            last = event.event
        out.append((time.perf_counter() - t0) * 1000)
        assert last == "thread.run.completed", last
    return out


async def polled_runs(client: openai.AsyncOpenAI, assistant_id: str, calls: int) -> list[float]:
    out = []
    for n in range(calls):
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": f"question {n}"}])
        t0 = time.perf_counter()
        run = await client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant_id)
        out.append((time.perf_counter() - t0) * 1000)
        assert run.status == "completed", run.status
    return out


async def background(client: openai.AsyncOpenAI, assistant_id: str, jobs: int) -> dict[str, float]:
    threads = await asyncio.gather(*[client.beta.threads.create(
        messages=[{"role": "user", "content": f"job {n}"}]) for n in range(jobs)])
    t0 = time.perf_counter()
    runs = await asyncio.gather(*[client.beta.threads.runs.create(thread_id=t.id, assistant_id=assistant_id)
                                  for t in threads])
    pending = {(r.thread_id, r.id) for r in runs}
    while pending:
        batch = list(pending)[:50]
        done = await asyncio.gather(*[client.beta.threads.runs.retrieve(r, thread_id=t) for t, r in batch])
        pending -= {(r.thread_id, r.id) for r in done if r.status in ("completed", "failed", "incomplete")}
        if pending:
            await asyncio.sleep(0.05)
    total = time.perf_counter() - t0
    return {"runs": jobs, "total_s": round(total, 3), "runs_per_s": round(jobs / total, 1)}


async def measure(url: str, calls: int, jobs: int) -> dict[str, Any]:
    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=120)
    assistant = await client.beta.assistants.create(model=MODEL, instructions="Answer.")
    await bare(client, 3)  # warm-up
    await streamed_runs(client, assistant.id, 3)
    plain = await bare(client, calls)
    streamed = await streamed_runs(client, assistant.id, calls)
    polled = await polled_runs(client, assistant.id, max(5, calls // 5))
    result: dict[str, Any] = {"calls": calls, "bare_chat_stream_ms": summary(plain),
                              "run_streamed_ms": summary(streamed), "run_create_and_poll_ms": summary(polled)}
    result["run_streamed_over_bare_p50_ms"] = round(result["run_streamed_ms"]["p50"]
                                                    - result["bare_chat_stream_ms"]["p50"], 2)
    result["background"] = await background(client, assistant.id, jobs)
    await client.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=100)
    opts = parser.parse_args()
    run_over_fake_upstream("assistants-runs", MODEL, KEY, lambda url: asyncio.run(measure(url, opts.calls, opts.jobs)))


if __name__ == "__main__":
    main()
