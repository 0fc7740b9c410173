"""The job seam: durable work that any process may pick up, behind a small protocol, so
that what runs it (today an in-process loop over leases in the database; later a
job-queue library) can change without touching the work itself.

A kind of work says how to claim a job, renew and release its lease, and run it
(``LeasedWork``); a ``JobRunner`` drives it. ``InProcessRunner`` claims jobs while it has
slots free, renews each job's lease while it runs, stops a job whose lease another worker
took, and releases its jobs when the process stops, so the next process resumes them at
once (a process that dies lets its leases run out instead)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

J = TypeVar("J")


class LeasedWork(Protocol[J]):
    name: str

    def key(self, job: J) -> str:
        """The job's identity (its lease is per key)."""

    async def claim(self, worker_id: str, lease_seconds: float) -> J | None: ...

    async def renew(self, job: J, worker_id: str, lease_seconds: float) -> bool: ...

    async def release(self, job: J, worker_id: str) -> None: ...

    async def run(self, job: J, worker_id: str) -> None: ...


class JobRunner(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def wake(self) -> None:
        """New work was queued: look now rather than at the next poll."""


class InProcessRunner(Generic[J]):
    def __init__(self, work: LeasedWork[J], *, concurrency: int, lease_seconds: float,
                 idle_poll_seconds: float = 1.0) -> None:
        self.work = work
        self.worker_id = "worker_" + secrets.token_hex(6)
        self.lease_seconds = lease_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[asyncio.Task[None], J] = {}
        self._keys: set[str] = set()  # jobs running here (a late renewal lets this worker claim one again)

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name=f"{self.work.name}-runner")

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        running = dict(self._running)
        for task in running:
            task.cancel()
        for task, job in running.items():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            try:
                await self.work.release(job, self.worker_id)
            except Exception:
                log.exception("releasing a %s job failed", self.work.name)

    async def _loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                job = await self.work.claim(self.worker_id, self.lease_seconds)
            except Exception:
                log.exception("claiming a %s job failed", self.work.name)
                job = None
            if job is None or self.work.key(job) in self._keys:
                self._slots.release()
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.idle_poll_seconds)
                continue
            task = asyncio.create_task(self._run(job), name=f"{self.work.name}-job")
            self._running[task] = job
            self._keys.add(self.work.key(job))
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        job = self._running.pop(task, None)
        if job is not None:
            self._keys.discard(self.work.key(job))
        self._slots.release()

    async def _run(self, job: J) -> None:
        current = asyncio.current_task()
        assert current is not None
        renewer = asyncio.create_task(self._renew(job, current))
        try:
            await self.work.run(job, self.worker_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a %s job failed", self.work.name)
        finally:
            renewer.cancel()

    async def _renew(self, job: J, runner: asyncio.Task[None]) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = await self.work.renew(job, self.worker_id, self.lease_seconds)
            except Exception:
                log.exception("renewing a %s lease failed", self.work.name)
                continue
            if not held:
                runner.cancel()  # another worker has the job now
                return
