"""``InProcessRunner`` (the lease runner) over a small in-memory ``LeasedWork``: paused, as
when its process begins to drain, it claims no more jobs, and the job it runs goes on to
its end; a bulk cancel reaches every job it runs at once."""

from __future__ import annotations

import asyncio
import contextlib
import time

from switchyard.jobs import InProcessRunner


class Work:
    name = "demo"

    def __init__(self) -> None:
        self.queued: list[str] = []
        self.runs: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.hold = 0.0

    def key(self, job: str) -> str:
        return job

    async def claim(self, worker_id: str, lease_seconds: float) -> str | None:
        return self.queued.pop(0) if self.queued else None

    async def renew(self, job: str, worker_id: str, lease_seconds: float) -> bool:
        return True

    async def release(self, job: str, worker_id: str) -> None:
        self.queued.append(job)

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> str | None:
        return None

    async def is_open(self, key: str) -> bool:
        return key in self.queued

    async def open_keys(self) -> list[str]:
        return list(self.queued)

    async def run(self, job: str, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        self.runs.append(job)
        assert cancelled is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(cancelled.wait(), self.hold)
            self.cancelled.append(job)
        self.finished.append(job)


async def _until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_paused_runner_claims_nothing_more_and_finishes_what_it_runs() -> None:
    work = Work()
    runner = InProcessRunner(work, concurrency=4, lease_seconds=30, idle_poll_seconds=0.05)
    runner.start()
    try:
        work.hold = 1.0
        work.queued.append("running")
        runner.wake()
        await _until(lambda: work.runs == ["running"])
        runner.pause()
        work.queued.extend(["later1", "later2"])
        runner.wake()
        await _until(lambda: work.finished == ["running"])
        await asyncio.sleep(0.3)  # six idle polls
        assert work.runs == ["running"] and work.queued == ["later1", "later2"]
    finally:
        await runner.stop()
    assert work.queued == ["later1", "later2"]  # nothing was running to hand back


async def test_a_bulk_cancel_reaches_every_job_running_here_at_once() -> None:
    work = Work()
    runner = InProcessRunner(work, concurrency=2, lease_seconds=30, idle_poll_seconds=0.05)
    runner.start()
    try:
        work.hold = 60.0
        work.queued.extend(["a", "b", "c"])
        runner.wake()
        await _until(lambda: work.runs == ["a", "b"])
        work.queued.remove("c")  # the cancel is written in the jobs' rows first: "c" is never claimed
        await runner.cancel_many(["a", "b", "c", "elsewhere"])
        await _until(lambda: sorted(work.cancelled) == ["a", "b"], timeout=2)
        await asyncio.sleep(0.3)
        assert work.runs == ["a", "b"]
    finally:
        await runner.stop()
