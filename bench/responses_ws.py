"""WebSocket mode against HTTP for an agent-style chain, measured by hand (never from the tests).

A conversation of --turns streamed turns with ``store: false``, three ways, same
upstream: over one WebSocket connection (each turn sends only its new message and
``previous_response_id``; the connection's cache holds the chain), over HTTP
re-sending the whole history every turn (what ``store: false`` needs there), and
over HTTP as a stored chain (``previous_response_id``, history rebuilt from the
store). Per-turn latency to the terminal event.

Against the fast fake upstream (bench/fake_upstream.py), SQLite store.

Run: PYTHONPATH=src .venv/bin/python bench/responses_ws.py [--turns 50]
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
MODEL = "bench-model"


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"p50": round(statistics.median(ordered), 2), "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
            "last_turn": round(latencies[-1], 2)}


async def over_socket(client: openai.AsyncOpenAI, turns: int) -> list[float]:
    latencies, previous = [], None
    async with client.responses.connect() as connection:
        for n in range(turns):
            t0 = time.perf_counter()
            await connection.response.create(model=MODEL, input=f"turn {n}: tell me more", store=False,
                                             **({"previous_response_id": previous} if previous else {}))
            async for event in connection:
                if event.type == "response.completed":
                    previous = event.response.id
                    break
                if event.type in ("error", "response.failed", "response.incomplete"):
                    raise RuntimeError(f"turn {n}: {event}")
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


async def over_http(client: openai.AsyncOpenAI, turns: int, *, stored: bool) -> list[float]:
    latencies, history, previous = [], [], None
    for n in range(turns):
        message = {"role": "user", "content": f"turn {n}: tell me more"}
        history.append(message)
        t0 = time.perf_counter()
        extra = {"previous_response_id": previous} if stored and previous else {}
        stream = await client.responses.create(model=MODEL, input=[message] if stored else history, store=stored,
                                               stream=True, **extra)
        async for event in stream:
            if event.type == "response.completed":
                final = event.response
        latencies.append((time.perf_counter() - t0) * 1000)
        previous = final.id
        history.extend(item.model_dump(exclude_none=True) for item in final.output)
    return latencies


async def measure(url: str, turns: int) -> dict:
    client = openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=120)
    await over_socket(client, 3)  # warm-up
    socket_ms = await over_socket(client, turns)
    resent_ms = await over_http(client, turns, stored=False)
    chained_ms = await over_http(client, turns, stored=True)
    await client.close()
    result = {"turns": turns, "websocket_ms": summary(socket_ms), "http_resent_history_ms": summary(resent_ms),
              "http_stored_chain_ms": summary(chained_ms)}
    result["websocket_over_resent_p50"] = round(statistics.median(socket_ms) / statistics.median(resent_ms), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50)
    opts = parser.parse_args()
    run_over_fake_upstream("responses-ws", MODEL, KEY, lambda url: asyncio.run(measure(url, opts.turns)))


if __name__ == "__main__":
    main()
