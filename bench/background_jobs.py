"""Background jobs per second on one and on three processes sharing one PostgreSQL
(issue 13): ``responses.create(background=True)`` through the official SDK, against a
fast fake upstream (``bench/fake_upstream.py``, a few microseconds per answer), so the
figure is Switchyard's own job machinery: the response's rows, the PgQueuer queue, a
worker picking the job (in any process), the upstream call, the stored result.

N processes (``switchyard serve``) run on the same fresh database (the local server's,
or ``--pg-url``); the jobs are submitted round robin over them and the bench polls
until every one is terminal. Each process runs up to ``background_concurrency`` jobs.

    PYTHONPATH=src .venv/bin/python bench/background_jobs.py --jobs 600 --procs 1,3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.procs import cpu_seconds, free_port, machine, start, stop, wait_http  # noqa: E402

KEY = "sk-bench-jobs"
MODEL = "bench-model"
TERMINAL = ("completed", "failed", "cancelled", "incomplete")


async def drive(urls: list[str], jobs: int) -> dict[str, Any]:
    clients = [openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=3, timeout=120) for url in urls]
    sem = asyncio.Semaphore(32)

    async def create(n: int) -> str:
        async with sem:
            made = await clients[n % len(clients)].responses.create(model=MODEL, input=f"job {n}", background=True)
            return made.id

    t0 = time.perf_counter()
    ids = await asyncio.gather(*[create(n) for n in range(jobs)])
    submitted = time.perf_counter() - t0
    pending = set(ids)
    statuses: dict[str, int] = {}
    while pending:
        batch = list(pending)[:64]
        done = await asyncio.gather(*[clients[i % len(clients)].responses.retrieve(id) for i, id in enumerate(batch)])
        for response in done:
            if response.status in TERMINAL:
                pending.discard(response.id)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        if pending:
            await asyncio.sleep(0.05)
    total = time.perf_counter() - t0
    for client in clients:
        await client.close()
    return {"jobs": jobs, "submit_s": round(submitted, 2), "total_s": round(total, 2),
            "jobs_per_s": round(jobs / total, 1), "statuses": statuses}


async def run(procs: int, jobs: int, pg_url: str, work: Path, upstream_port: int) -> dict[str, Any]:
    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url(pg_url) as url:
        config = work / f"switchyard-{procs}.yaml"
        config.write_text(json.dumps({
            "models": [{"name": MODEL, "provider": "openai", "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                        "api_key": "x", "model": "upstream"}],
            "log_level": "warning", "database_url": url}))
        servers, urls = [], []
        try:
            for i in range(procs):
                port = free_port()
                env = {**os.environ, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / f"data-{procs}")}
                log = work / f"server-{procs}-{i}.log"
                server = start([sys.executable, "-m", "switchyard.cli", "serve", "--config", str(config), "--port",
                                str(port)], log, env, None)
                servers.append(server)
                wait_http(f"http://127.0.0.1:{port}/health", server, log)
                urls.append(f"http://127.0.0.1:{port}")
            await drive(urls, min(50, jobs))  # warm-up: connections, plans, the queue's listeners
            cpu0 = [cpu_seconds(s.pid) for s in servers]
            figures = await drive(urls, jobs)
            figures["server_cpu_s"] = round(sum(cpu_seconds(s.pid) - c for s, c in zip(servers, cpu0, strict=True)), 2)
            figures["server_cpu_ms_per_job"] = round(1000 * figures["server_cpu_s"] / jobs, 2)
            return figures
        finally:
            for server in servers:
                stop(server)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--procs", default="1,3")
    parser.add_argument("--rounds", type=int, default=2, help="alternating 1/3-process rounds")
    parser.add_argument("--pg-url", default=os.environ.get("SWITCHYARD_TEST_PG_URL",
                                                          "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sy-bench-jobs-"))
    upstream_port = free_port()
    upstream = start([sys.executable, str(ROOT / "bench/fake_upstream.py"), "--port", str(upstream_port)],
                     work / "upstream.log", {}, None)
    report: dict[str, Any] = {"machine": machine(), "loadavg_at_start": os.getloadavg(), "runs": []}
    try:
        wait_http(f"http://127.0.0.1:{upstream_port}/health", upstream, work / "upstream.log")
        for round_ in range(args.rounds):
            for procs in (int(p) for p in args.procs.split(",")):
                figures = {"procs": procs, "round": round_, **await run(procs, args.jobs, args.pg_url, work,
                                                                         upstream_port)}
                print(json.dumps(figures), flush=True)
                report["runs"].append(figures)
    finally:
        stop(upstream)
    report["loadavg_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"background-jobs-{int(time.time())}.json"
    path.write_text(json.dumps(report, indent=1))
    print("written", path)


if __name__ == "__main__":
    asyncio.run(main())
