"""The Responses engine's own cost, measured by hand (never from the tests).

1. Stored chains versus stateless requests: a conversation of --turns turns,
   sent once as a chain of stored responses (each turn sends only its new
   message and ``previous_response_id``; Switchyard rebuilds the history from
   its store) and once statelessly (``store: false``, the whole history re-sent
   every turn, as Codex does). Same upstream, same history length per turn.
2. Background throughput: --jobs background responses submitted at once;
   jobs/s until all are completed, through the store-backed job runner.

Both against the fast fake upstream (bench/fake_upstream.py), SQLite store.

Run: .venv/bin/python bench/responses_engine.py [--turns 50] [--jobs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import run_over_fake_upstream

KEY = "sk-bench"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def chain(client: openai.AsyncOpenAI, turns: int) -> list[float]:
    latencies, previous = [], None
    for n in range(turns):
        t0 = time.perf_counter()
        response = await client.responses.create(model="bench-model", input=f"turn {n}: tell me more",
                                                 previous_response_id=previous)
        latencies.append((time.perf_counter() - t0) * 1000)
        previous = response.id
    return latencies


async def stateless(client: openai.AsyncOpenAI, turns: int) -> list[float]:
    latencies, history = [], []
    for n in range(turns):
        history.append({"role": "user", "content": f"turn {n}: tell me more"})
        t0 = time.perf_counter()
        response = await client.responses.create(model="bench-model", input=history, store=False)
        latencies.append((time.perf_counter() - t0) * 1000)
        history.extend(item.model_dump(exclude_none=True) for item in response.output)
    return latencies


async def background(client: openai.AsyncOpenAI, jobs: int) -> dict[str, float]:
    t0 = time.perf_counter()
    created = await asyncio.gather(*[client.responses.create(model="bench-model", input=f"job {n}",
                                                             background=True) for n in range(jobs)])
    submitted = time.perf_counter() - t0
    pending = {r.id for r in created}
    while pending:
        done = await asyncio.gather(*[client.responses.retrieve(i) for i in list(pending)[:50]])
        pending -= {r.id for r in done if r.status in ("completed", "failed", "cancelled", "incomplete")}
        if pending:
            await asyncio.sleep(0.05)
    total = time.perf_counter() - t0
    return {"jobs": jobs, "submit_s": round(submitted, 3), "total_s": round(total, 3),
            "jobs_per_s": round(jobs / total, 1)}


async def measure(url: str, turns: int, jobs: int) -> dict:
    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=120)
    await chain(client, 3)  # warm-up
    stored = await chain(client, turns)
    plain = await stateless(client, turns)
    result = {
        "turns": turns,
        "stored_chain_ms": {"p50": round(statistics.median(stored), 2), "p99": round(pct(stored, 99), 2),
                            "last_turn": round(stored[-1], 2)},
        "stateless_ms": {"p50": round(statistics.median(plain), 2), "p99": round(pct(plain, 99), 2),
                         "last_turn": round(plain[-1], 2)},
    }
    result["stored_over_stateless_p50"] = round(result["stored_chain_ms"]["p50"] / result["stateless_ms"]["p50"], 2)
    result["background"] = await background(client, jobs)
    await client.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=200)
    opts = parser.parse_args()
    run_over_fake_upstream("responses", "bench-model", KEY,
                           lambda url: asyncio.run(measure(url, opts.turns, opts.jobs)))


if __name__ == "__main__":
    main()
