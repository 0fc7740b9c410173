"""The job seam: durable work that any process may pick up, behind a small protocol, so
that what runs it can change without touching the work itself.

A kind of work says how to claim a job, renew and release its lease, and run it
(``LeasedWork``); a ``JobRunner`` drives it. Two runners:

- ``InProcessRunner`` (here; the embedded default on SQLite) claims jobs while it has
  slots free, renews each job's lease while it runs, stops a job whose lease another
  worker took, and releases its jobs when the process stops, so the next process resumes
  them at once (a process that dies lets its leases run out instead).
- ``QueueRunner`` (``jobs/queue_runner.py``, on PostgreSQL) dispatches through PgQueuer's
  queue: LISTEN/NOTIFY wakes the workers, heartbeats let another process re-pick a job
  whose process died, and a cancel is a notification that reaches the process running
  the job. The work's own lease (``take``) still fences each job's writes.

Either way a job's own rows hold its progress: ``run`` resumes from the last step
written, so a job picked up again after its process died goes on where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
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

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> J | None:
        """The job ``key`` leased to ``worker_id``, if it still needs running and no live
        worker holds it (a queue runner was handed this key)."""

    async def is_open(self, key: str) -> bool:
        """The job has not ended (it may be leased to another worker)."""

    async def open_keys(self) -> list[str]:
        """Every job that has not ended (a queue runner makes sure each is queued)."""

    async def run(self, job: J, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        """Runs the job from its last stored step. ``cancelled`` is set when a cancel was
        asked for it (on any process); the work reads what was asked from its rows."""


async def keep_lease(work: LeasedWork[J], job: J, worker_id: str, lease_seconds: float,
                     runner: asyncio.Task[None]) -> None:
    """Renews ``job``'s lease every third of its length while ``runner`` runs it, and stops
    the runner as soon as another worker holds the job."""
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            held = await work.renew(job, worker_id, lease_seconds)
        except Exception:
            log.exception("renewing a %s lease failed", work.name)
            continue
        if not held:
            runner.cancel()  # another worker has the job now
            return


class JobRunner(Protocol):
    pushes_cancels: bool  # ``cancel`` reaches a job's run in any process (else only in this one)

    def start(self) -> None: ...

    def pause(self) -> None:
        """Claim no more jobs (the process drains); the running ones go on until ``stop``."""

    async def stop(self) -> None: ...

    async def submit(self, key: str) -> None:
        """The job ``key`` was queued (its rows written): run it soon, on some process."""

    async def cancel(self, key: str) -> None:
        """A cancel of ``key`` was written: tell the process running it, wherever it is."""

    async def cancel_many(self, keys: Sequence[str]) -> None:
        """The jobs ``keys`` were ended by a cancel written in their rows (nothing is left to
        run): those still queued are dropped, the processes running the others are told."""

    def wake(self) -> None:
        """New jobs may be in the store (keys not at hand): look for them now."""


class InProcessRunner(Generic[J]):
    pushes_cancels = False  # other processes sharing the database do not hear this one's cancels

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
        self._cancelled: dict[str, asyncio.Event] = {}
        self._paused = False

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name=f"{self.work.name}-runner")

    def pause(self) -> None:
        self._paused = True
        self.wake()

    def wake(self) -> None:
        self._wakeup.set()

    async def submit(self, key: str) -> None:
        self.wake()

    async def cancel(self, key: str) -> None:
        """One process on SQLite: a job being cancelled runs here, if anywhere."""
        await self.cancel_many([key])

    async def cancel_many(self, keys: Sequence[str]) -> None:
        """A job not yet claimed is never claimed once its rows say it ended: only the
        running ones need telling."""
        for key in keys:
            if (event := self._cancelled.get(key)) is not None:
                event.set()
        self.wake()

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
            if self._paused:
                self._slots.release()
                return
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
        renewer = asyncio.create_task(keep_lease(self.work, job, self.worker_id, self.lease_seconds, current))
        key = self.work.key(job)
        self._cancelled[key] = cancelled = asyncio.Event()
        try:
            await self.work.run(job, self.worker_id, cancelled)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a %s job failed", self.work.name)
        finally:
            self._cancelled.pop(key, None)
            renewer.cancel()

