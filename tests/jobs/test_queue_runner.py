"""``QueueRunner`` (PgQueuer) on a real PostgreSQL database migrated by Alembic, with two
runners sharing one kind of work (as two processes would): each job runs once, an open
job never submitted is found by the sweep, a cancel asked through one runner reaches the
job running on the other, a bulk cancel drops queued jobs from the queue at once and
reaches the running ones, and a runner that stops hands its job to the other at once
(well before its lease would run out). The work is a small in-memory ``LeasedWork``
whose leases behave as the repositories' do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest
from sqlalchemy import make_url

from switchyard.jobs.queue_runner import QueueRunner
from switchyard.store.database import Database
from tests.pg import fresh_postgres_url

pytestmark = pytest.mark.postgres

LEASE = 30.0  # long: a handover seen in a few seconds did not wait for it


@dataclass
class Jobs:
    """What the two runners share: the jobs' rows, as a database would hold them."""

    open: set[str] = field(default_factory=set)
    leases: dict[str, tuple[str, float]] = field(default_factory=dict)
    runs: list[tuple[str, str]] = field(default_factory=list)  # (key, worker)
    hold: float = 0.0  # how long a run takes, unless cancelled
    cancelled: list[tuple[str, str]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)


class Work:
    name = "demo"

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def key(self, job: str) -> str:
        return job

    async def claim(self, worker_id: str, lease_seconds: float) -> str | None:
        return None

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> str | None:
        held = self.jobs.leases.get(key)
        if key not in self.jobs.open or (held is not None and held[1] > time.monotonic()):
            return None
        self.jobs.leases[key] = (worker_id, time.monotonic() + lease_seconds)
        return key

    async def renew(self, job: str, worker_id: str, lease_seconds: float) -> bool:
        if self.jobs.leases.get(job, ("", 0.0))[0] != worker_id:
            return False
        self.jobs.leases[job] = (worker_id, time.monotonic() + lease_seconds)
        return True

    async def release(self, job: str, worker_id: str) -> None:
        if self.jobs.leases.get(job, ("", 0.0))[0] == worker_id:
            del self.jobs.leases[job]

    async def is_open(self, key: str) -> bool:
        return key in self.jobs.open

    async def open_keys(self) -> list[str]:
        return sorted(self.jobs.open)

    async def run(self, job: str, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        self.jobs.runs.append((job, worker_id))
        self.jobs.started.set()
        assert cancelled is not None
        try:
            await asyncio.wait_for(cancelled.wait(), self.jobs.hold)
            self.jobs.cancelled.append((job, worker_id))
        except TimeoutError:
            pass
        self.jobs.open.discard(job)
        self.jobs.leases.pop(job, None)


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    async with fresh_postgres_url() as url:
        database = Database(url)
        await database.start()  # Alembic creates PgQueuer's tables (0021)
        await database.aclose()
        yield make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def pair(dsn: str) -> AsyncIterator[tuple[Jobs, QueueRunner[str], QueueRunner[str]]]:
    jobs = Jobs()
    runners = [QueueRunner(Work(jobs), dsn=dsn, concurrency=2, lease_seconds=LEASE, idle_poll_seconds=1.0)
               for _ in range(2)]
    for runner in runners:
        runner.start()
    try:
        yield jobs, runners[0], runners[1]
    finally:
        for runner in runners:
            await runner.stop()


async def _until(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_each_submitted_job_runs_once_on_one_of_the_runners(
        pair: tuple[Jobs, QueueRunner[str], QueueRunner[str]]) -> None:
    jobs, a, b = pair
    keys = [f"job{n}" for n in range(12)]
    jobs.open.update(keys)
    jobs.hold = 0.05
    for n, key in enumerate(keys):
        await (a if n % 2 else b).submit(key)
    await a.submit(keys[0])  # a second submit of a queued job is skipped
    await _until(lambda: not jobs.open)
    await asyncio.sleep(1.0)
    assert sorted(key for key, _ in jobs.runs) == sorted(keys)
    assert {worker for _, worker in jobs.runs} <= {a.worker_id, b.worker_id}


async def test_an_open_job_never_submitted_is_queued_when_a_runner_is_woken(
        pair: tuple[Jobs, QueueRunner[str], QueueRunner[str]]) -> None:
    jobs, a, _ = pair
    await asyncio.sleep(0.5)  # both runners have swept once already
    jobs.open.add("lost")
    a.wake()
    await _until(lambda: not jobs.open)
    assert [key for key, _ in jobs.runs] == ["lost"]


async def test_a_cancel_through_one_runner_reaches_the_job_running_on_the_other(
        pair: tuple[Jobs, QueueRunner[str], QueueRunner[str]]) -> None:
    jobs, a, b = pair
    jobs.hold = 60.0
    jobs.open.add("long")
    await a.submit("long")
    await asyncio.wait_for(jobs.started.wait(), 15)
    runner = jobs.runs[0][1]
    other = b if runner == a.worker_id else a
    asked = time.monotonic()
    await other.cancel("long")
    await _until(lambda: jobs.cancelled, timeout=5)
    assert jobs.cancelled == [("long", runner)]
    assert time.monotonic() - asked < 2.0


async def test_a_stopping_runner_hands_its_job_to_the_other_at_once(
        pair: tuple[Jobs, QueueRunner[str], QueueRunner[str]]) -> None:
    jobs, a, b = pair
    jobs.hold = 3.0
    jobs.open.add("handed")
    await a.submit("handed")
    await asyncio.wait_for(jobs.started.wait(), 15)
    first = jobs.runs[0][1]
    stopping, staying = (a, b) if first == a.worker_id else (b, a)
    stopped = time.monotonic()
    await stopping.stop()
    await _until(lambda: len(jobs.runs) == 2, timeout=LEASE / 2)
    assert jobs.runs[1] == ("handed", staying.worker_id)
    assert time.monotonic() - stopped < LEASE / 2
    await _until(lambda: not jobs.open)


async def test_a_paused_runner_takes_no_new_job_and_finishes_the_one_it_runs(
        pair: tuple[Jobs, QueueRunner[str], QueueRunner[str]]) -> None:
    jobs, a, b = pair
    jobs.hold = 3.0
    jobs.open.add("running")
    await a.submit("running")
    await asyncio.wait_for(jobs.started.wait(), 15)
    pausing, other = (a, b) if jobs.runs[0][1] == a.worker_id else (b, a)
    pausing.pause()  # as a process does when it begins to drain
    jobs.hold = 0.05
    keys = [f"new{n}" for n in range(8)]
    jobs.open.update(keys)
    for key in keys:
        await pausing.submit(key)  # queued through the paused runner: its process may still take requests
    await _until(lambda: not jobs.open)
    assert jobs.runs[0] == ("running", pausing.worker_id) and jobs.cancelled == []  # it ran to its end there
    assert sorted(key for key, _ in jobs.runs[1:]) == sorted(keys)
    assert {worker for _, worker in jobs.runs[1:]} == {other.worker_id}


async def test_a_bulk_cancel_drops_the_queued_jobs_and_reaches_the_running_ones(
        dsn: str, pair: tuple[Jobs, QueueRunner[str], QueueRunner[str]]) -> None:
    jobs, a, b = pair
    jobs.hold = 60.0
    keys = [f"file{n}" for n in range(10)]
    jobs.open.update(keys)
    for key in keys:
        await a.submit(key)
    await _until(lambda: len(jobs.runs) == 4)  # two runners, two jobs each: six wait in the queue
    assert await _queued(dsn) == 6
    jobs.open.difference_update(keys)  # the cancel is written in the jobs' rows first
    await b.cancel_many(keys)
    assert await _queued(dsn) == 0  # off the queue when the cancel returns
    await _until(lambda: len(jobs.cancelled) == 4, timeout=5)
    assert sorted(jobs.cancelled) == sorted(jobs.runs)
    await asyncio.sleep(1.0)
    assert len(jobs.runs) == 4  # no queued job started


async def _queued(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval(
            "SELECT count(*) FROM pgqueuer WHERE entrypoint = 'demo' AND status = 'queued'"))
    finally:
        await connection.close()
