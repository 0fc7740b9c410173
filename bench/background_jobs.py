"""Background jobs on one and on three processes sharing one PostgreSQL (issue 13):
``responses.create(background=True)`` through the official SDK, against a fast fake upstream
(``bench/fake_upstream.py``, a few microseconds per answer), so the figure is Switchyard's own
job machinery: the response's rows, the PgQueuer queue, a worker picking the job (in any
process), the upstream call, the stored events and result.

N processes (``switchyard serve``) run on the same fresh database (the local server's, or
``--pg-url``); the jobs are submitted round robin over them. The servers' CPU time (``/proc``,
not wall: the machine is loaded by other work) is measured in three phases, so that what the
jobs cost is not mixed up with what waiting for them costs:

- idle: ``--idle`` seconds with no work at all (PgQueuer's loops, heartbeats, timers);
- jobs: submitting the jobs and running them to a terminal status. The bench watches the
  database itself (its own connection, no request to the servers), unless ``--wait poll``:
  then it polls ``responses.retrieve`` through the SDK as a client would, and counts the polls;
- retrieve: each finished response retrieved once through the SDK (a poll's cost).

The job CPU reported is the jobs phase net of the idle rate over its duration and, with
``--wait poll``, of its polls at the retrieve phase's cost per request.

    PYTHONPATH=src .venv/bin/python bench/background_jobs.py --jobs 200 --procs 1,3 --rounds 1
    PYTHONPATH=src .venv/bin/python bench/background_jobs.py --procs 1 --profile /tmp/sy.prof
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import openai
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench.procs import cpu_seconds, free_port, machine, start, stop, wait_http  # noqa: E402

KEY = "sk-bench-jobs"
MODEL = "bench-model"
TERMINAL = ("completed", "failed", "cancelled", "incomplete")


class Servers:
    def __init__(self, procs: list[Any], urls: list[str]) -> None:
        self.procs = procs
        self.clients = [openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=3, timeout=120)
                        for url in urls]

    def cpu(self) -> list[float]:
        return [cpu_seconds(p.pid) for p in self.procs]

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


async def submit(servers: Servers, jobs: int) -> list[str]:
    sem = asyncio.Semaphore(32)

    async def create(n: int) -> str:
        async with sem:
            made = await servers.clients[n % len(servers.clients)].responses.create(
                model=MODEL, input=f"job {n}", background=True)
            return made.id

    return list(await asyncio.gather(*[create(n) for n in range(jobs)]))


async def wait_db(dsn: str, ids: list[str]) -> dict[str, int]:
    """Until every response in ``ids`` is terminal, read from the database (no server request)."""
    connection = await asyncpg.connect(dsn)
    try:
        while True:
            rows = await connection.fetch("SELECT status, count(*) AS n FROM responses WHERE id = ANY($1) "
                                          "GROUP BY status", ids)
            statuses = {row["status"]: row["n"] for row in rows}
            if sum(n for status, n in statuses.items() if status in TERMINAL) == len(ids):
                return statuses
            await asyncio.sleep(0.1)
    finally:
        await connection.close()


async def wait_poll(servers: Servers, ids: list[str]) -> tuple[dict[str, int], int]:
    """Until every response is terminal, polled through the SDK as the bench first did; and
    how many retrieve requests that took."""
    pending, statuses, polls = set(ids), {}, 0
    clients = servers.clients
    while pending:
        batch = list(pending)[:64]
        done = await asyncio.gather(*[clients[i % len(clients)].responses.retrieve(id) for i, id in enumerate(batch)])
        polls += len(batch)
        for response in done:
            if response.status in TERMINAL:
                pending.discard(response.id)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        if pending:
            await asyncio.sleep(0.05)
    return statuses, polls


async def retrieve_all(servers: Servers, ids: list[str]) -> dict[str, int]:
    sem = asyncio.Semaphore(32)
    statuses: dict[str, int] = {}

    async def one(n: int, id: str) -> None:
        async with sem:
            response = await servers.clients[n % len(servers.clients)].responses.retrieve(id)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    await asyncio.gather(*[one(n, id) for n, id in enumerate(ids)])
    return statuses


async def measure(servers: Servers, dsn: str, jobs: int, idle: float, wait: str,
                  profile: Path | None = None) -> dict[str, Any]:
    procs = len(servers.procs)
    c0, t0 = servers.cpu(), time.perf_counter()
    await asyncio.sleep(idle)
    idle_cpu = [b - a for a, b in zip(c0, servers.cpu(), strict=True)]
    idle_wall = time.perf_counter() - t0
    idle_rate = sum(idle_cpu) / idle_wall  # CPU seconds per second, all processes

    if profile is not None:  # the jobs phase alone, on the first server (bench/profile_serve.py)
        os.kill(servers.procs[0].pid, signal.SIGUSR2)
    c1, t1 = sum(servers.cpu()), time.perf_counter()
    ids = await submit(servers, jobs)
    submitted = time.perf_counter() - t1
    polls = 0
    if wait == "poll":
        statuses, polls = await wait_poll(servers, ids)
    else:
        statuses = await wait_db(dsn, ids)
    wall = time.perf_counter() - t1
    gross = sum(servers.cpu()) - c1
    if profile is not None:
        os.kill(servers.procs[0].pid, signal.SIGUSR1)
        await asyncio.sleep(2)

    c2, t2 = sum(servers.cpu()), time.perf_counter()
    retrieved = await retrieve_all(servers, ids)
    retrieve_wall = time.perf_counter() - t2
    retrieve_cpu = sum(servers.cpu()) - c2 - idle_rate * retrieve_wall
    per_retrieve = retrieve_cpu / jobs

    idle_share = idle_rate * wall
    poll_share = polls * per_retrieve
    net = gross - idle_share - poll_share
    return {
        "procs": procs, "jobs": jobs, "wait": wait, "loadavg": [round(x, 1) for x in os.getloadavg()],
        "submit_s": round(submitted, 2), "total_s": round(wall, 2),
        "jobs_per_s": round(jobs / wall, 1), "statuses": statuses, "retrieved": retrieved,
        "idle_s": round(idle_wall, 1), "idle_cpu_ms_per_s_per_proc": round(1000 * idle_rate / procs, 2),
        "idle_cpu_ms_per_s": [round(1000 * c / idle_wall, 2) for c in idle_cpu],
        "server_cpu_s": round(gross, 2), "server_cpu_ms_per_job": round(1000 * gross / jobs, 2),
        "polls": polls, "polls_per_job": round(polls / jobs, 1),
        "retrieve_cpu_ms": round(1000 * per_retrieve, 3),
        "split_ms_per_job": {"idle": round(1000 * idle_share / jobs, 2), "polls": round(1000 * poll_share / jobs, 2),
                             "job": round(1000 * net / jobs, 2)},
    }


async def run(procs: int, jobs: int, pg_url: str, work: Path, upstream_port: int, *, idle: float, wait: str,
              profile: Path | None) -> dict[str, Any]:
    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url(pg_url) as url:
        config = work / f"switchyard-{procs}.yaml"
        config.write_text(json.dumps({
            "models": [{"name": MODEL, "provider": "openai", "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                        "api_key": "x", "model": "upstream"}],
            "log_level": "warning", "database_url": url}))
        procs_, urls = [], []
        try:
            for i in range(procs):
                port = free_port()
                env = {**os.environ, "SWITCHYARD_MASTER_KEY": KEY, "SWITCHYARD_DATA_DIR": str(work / f"data-{procs}")}
                log = work / f"server-{procs}-{i}.log"
                serve = ["serve", "--config", str(config), "--port", str(port)]
                if profile is not None and i == 0:
                    cmd = [sys.executable, str(ROOT / "bench/profile_serve.py"), str(profile), *serve]
                else:
                    cmd = [sys.executable, "-m", "switchyard.cli", *serve]
                server = start(cmd, log, env, None)
                procs_.append(server)
                wait_http(f"http://127.0.0.1:{port}/health", server, log)
                urls.append(f"http://127.0.0.1:{port}")
            servers = Servers(procs_, urls)
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            try:
                warm = await submit(servers, min(50, jobs))  # connections, plans, the queue's listeners
                await wait_db(dsn, warm)
                await retrieve_all(servers, warm)
                return await measure(servers, dsn, jobs, idle, wait, profile)
            finally:
                await servers.close()
        finally:
            for server in procs_:
                stop(server)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--procs", default="1,3")
    parser.add_argument("--rounds", type=int, default=2, help="alternating 1/3-process rounds")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of no work measured per run")
    parser.add_argument("--wait", choices=("db", "poll"), default="db",
                        help="watch the database for the end (default), or poll retrieve through the SDK")
    parser.add_argument("--profile", type=Path, help="run the first server under cProfile (CPU clock), stats here")
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
                figures = {"round": round_, **await run(procs, args.jobs, args.pg_url, work, upstream_port,
                                                         idle=args.idle, wait=args.wait, profile=args.profile)}
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
