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
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import free_port, machine, start, stop, wait_http

ROOT = Path(__file__).resolve().parent.parent
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
    work = Path(tempfile.mkdtemp(prefix="sy-bench-ws-"))
    upstream_port, server_port = free_port(), free_port()
    upstream = start([sys.executable, str(ROOT / "bench/fake_upstream.py"), "--port", str(upstream_port)],
                     work / "upstream.log", {}, None)
    config = work / "switchyard.yaml"
    config.write_text(json.dumps({"models": [{"name": MODEL, "provider": "openai",
                                              "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                                              "api_key": "x", "model": "upstream"}],
                                  "log_level": "warning"}))
    env = {**os.environ, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / "data")}
    server = start([sys.executable, "-m", "switchyard.cli", "serve", "--config", str(config), "--port",
                    str(server_port)], work / "server.log", env, None)
    try:
        wait_http(f"http://127.0.0.1:{upstream_port}/health", upstream, work / "upstream.log")
        wait_http(f"http://127.0.0.1:{server_port}/health", server, work / "server.log")
        result = asyncio.run(measure(f"http://127.0.0.1:{server_port}", opts.turns))
    finally:
        stop(server)
        stop(upstream)
    result["machine"] = machine()
    print(json.dumps(result, indent=2))
    out = ROOT / "bench/results"
    out.mkdir(exist_ok=True)
    (out / f"responses-ws-{int(time.time())}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
