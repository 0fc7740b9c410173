"""``QueueRunner``: the ``JobRunner`` for PostgreSQL, on PgQueuer (``jobs/lease_runner.py`` has
the seam and the reasons; docs/scale-out.md has the choice).

A queued job is one PgQueuer row per open job (entrypoint = the kind of work, payload and
``dedupe_key`` = the job's key), written by ``submit`` and, as a safety net for a process
that died between writing a job's rows and queueing it, by a sweep over
``LeasedWork.open_keys`` at start and every ``reconcile_seconds``. PgQueuer picks rows
with ``FOR UPDATE SKIP LOCKED``, wakes idle workers with LISTEN/NOTIFY, heartbeats the
jobs it runs and lets another worker re-pick a job whose heartbeat went stale (its
process died): the work then resumes from its last stored step.

The work's own lease still fences its writes: a handler first ``take``s the job's rows
(a job still leased to a live worker is retried a little later), renews that lease
while it runs, and stops if another worker took it. A process that stops hands its jobs
back at once: its runs stop, their leases are released and their queue rows re-queued.
A process that drains first stops dequeuing (``pause``: PgQueuer's worker loop ends and
waits for the jobs it runs), so jobs queued meanwhile go to the other processes.

A cancel (``cancel``) is PgQueuer's cancellation NOTIFY for the job's row: the process
running the job, whichever it is, sets the job's ``cancelled`` event, and the work reads
what was asked from its rows. ``cancel_many`` is for jobs a cancel ended in their rows
(the files of a cancelled vector-store file batch): their queued rows are dropped from
the queue at once and the running ones are notified the same way. PgQueuer's tables are created by an Alembic migration
(0021), never by the library's own installer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Generic, TypeVar, cast

import asyncpg
from pgqueuer.db import AsyncpgPoolDriver
from pgqueuer.errors import RetryRequested
from pgqueuer.models import Context, Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries

from switchyard.jobs import LeasedWork
from switchyard.jobs.lease_runner import keep_lease
from switchyard.jobs.queue_pool import QueuePool

log = logging.getLogger(__name__)

J = TypeVar("J")

READY_SECONDS = 5.0  # how long submit/cancel wait for the queue's connections at start
RESTART_SECONDS = 5.0  # a failed queue worker is started again after this
PICKED_LIMIT = 10_000  # queued and running jobs of one kind looked through for the ones cancelled


class QueueRunner(Generic[J]):
    pushes_cancels = True  # a cancel reaches the process running the job, wherever it is

    def __init__(self, work: LeasedWork[J], *, concurrency: int, lease_seconds: float, pool: QueuePool | None = None,
                 dsn: str | None = None, idle_poll_seconds: float = 5.0, reconcile_seconds: float = 60.0) -> None:
        """``pool``: the process's shared queue connections; else a pool of its own on ``dsn``."""
        if pool is None:
            if dsn is None:
                raise ValueError("a QueueRunner needs a pool or a dsn")
            pool = QueuePool(dsn)
        pool.register()
        self.work = work
        self.queue_pool = pool
        self.worker_id = "worker_" + secrets.token_hex(6)
        self.concurrency = max(2, concurrency)  # PgQueuer wants at least twice its batch of 1
        self.lease_seconds = lease_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self.reconcile_seconds = reconcile_seconds
        self._ready = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._queries: Queries | None = None
        self._manager: QueueManager | None = None
        self._main: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._cancelled: dict[str, asyncio.Event] = {}
        self._stopping = False
        self._paused = False
        self._look = asyncio.Event()

    # -- JobRunner --------------------------------------------------------------

    def start(self) -> None:
        self._main = asyncio.create_task(self._serve(), name=f"{self.work.name}-queue")

    def pause(self) -> None:
        self._paused = True
        if self._manager is not None:
            self._manager.shutdown.set()

    async def stop(self) -> None:
        self._stopping = True
        runs = list(self._runs.values())
        for run in runs:
            run.cancel()
        for run in runs:  # each handler releases its job and re-queues it before it returns
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await run
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._manager is not None:
            self._manager.shutdown.set()
        if self._main is not None:
            try:
                await asyncio.wait_for(self._main, self.lease_seconds)
            except (TimeoutError, asyncio.CancelledError):
                pass
            except Exception:
                log.exception("the %s queue stopped with an error", self.work.name)
        if self._pool is not None:
            self._pool = None
            await self.queue_pool.release()

    def wake(self) -> None:
        self._look.set()  # the sweep queues every open job now

    async def submit(self, key: str) -> None:
        try:
            await self._enqueue([key])
        except Exception:  # the sweep queues it later; the job's rows are written already
            log.exception("queueing %s job %s failed", self.work.name, key)

    async def cancel(self, key: str) -> None:
        if (event := self._cancelled.get(key)) is not None:
            event.set()  # running here: no need to wait for the notification
        try:
            queries = await self._ready_queries()
            picked = await queries.browse_queue(limit=PICKED_LIMIT, statuses=["picked"], entrypoints=[self.work.name])
            ids = [job.id for job in picked if job.payload == key.encode()]
            if ids:
                await queries.notify_job_cancellation(ids)
        except Exception:  # the running job still sees the cancel in its rows when it next looks
            log.exception("notifying the cancel of %s job %s failed", self.work.name, key)

    async def cancel_many(self, keys: Sequence[str]) -> None:
        wanted = {key.encode() for key in keys}
        for key in keys:
            if (event := self._cancelled.get(key)) is not None:
                event.set()
        if not wanted:
            return
        try:
            queries = await self._ready_queries()
            rows = await queries.browse_queue(limit=PICKED_LIMIT, statuses=["queued", "picked"],
                                              entrypoints=[self.work.name])
            queued = [row.id for row in rows if row.payload in wanted and row.status == "queued"]
            picked = [row.id for row in rows if row.payload in wanted and row.status == "picked"]
            if queued:
                await queries.mark_job_as_cancelled(queued)
            if picked:
                await queries.notify_job_cancellation(picked)
        except Exception:  # a queued job finds its rows ended when picked; a running one at its next renewal
            log.exception("cancelling %d %s jobs on the queue failed", len(wanted), self.work.name)

    # -- the queue --------------------------------------------------------------

    def _dedupe(self, key: str) -> str:
        return f"{self.work.name}:{key}"

    async def _ready_queries(self) -> Queries:
        await asyncio.wait_for(self._ready.wait(), READY_SECONDS)
        assert self._queries is not None
        return self._queries

    async def _enqueue(self, keys: list[str]) -> None:
        if not keys:
            return
        queries = await self._ready_queries()
        await queries.enqueue([self.work.name] * len(keys), [key.encode() for key in keys], [0] * len(keys),
                              dedupe_key=[self._dedupe(key) for key in keys], on_conflict="skip")

    async def _serve(self) -> None:
        """PgQueuer's worker loop, started again (after ``RESTART_SECONDS``) if it fails,
        e.g. while the database is unreachable; the other processes go on meanwhile."""
        while not (self._stopping or self._paused):
            try:
                if self._pool is None:
                    self._pool = await self.queue_pool.acquire()
                    self._queries = Queries(AsyncpgPoolDriver(self._pool))
                    self._ready.set()
                    self._sweeper = asyncio.create_task(self._sweep(), name=f"{self.work.name}-queue-sweep")
                    log.info("%s jobs run on the PostgreSQL queue as %s", self.work.name, self.worker_id)
                assert self._queries is not None
                self._manager = QueueManager(self._queries)
                self._manager.entrypoint(self.work.name, accepts_context=True)(self._handle)
                if self._paused:  # paused while the queue's connections opened
                    return
                await self._manager.run(dequeue_timeout=timedelta(seconds=self.idle_poll_seconds), batch_size=1,
                                        max_concurrent_tasks=self.concurrency,
                                        heartbeat_timeout=timedelta(seconds=self.lease_seconds))
                return
            except Exception:
                if self._stopping or self._paused:
                    return
                log.exception("the %s job queue failed; starting it again in %.0f s", self.work.name,
                              RESTART_SECONDS)
                await asyncio.sleep(RESTART_SECONDS)

    async def _sweep(self) -> None:
        """Every open job is queued: at start, every ``reconcile_seconds`` and when woken (a
        job whose ``submit`` was lost, or a kind that queues without keys, is found here)."""
        while True:
            self._look.clear()
            try:
                await self._enqueue(await self.work.open_keys())
            except Exception:
                log.exception("queueing the open %s jobs failed", self.work.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._look.wait(), self.reconcile_seconds)

    # -- one job ----------------------------------------------------------------

    async def _handle(self, job: Job, context: Context) -> None:
        key = (job.payload or b"").decode()
        taken = await self.work.take(key, self.worker_id, self.lease_seconds)
        if taken is None:
            if await self.work.is_open(key):  # a live worker still holds it: look again later
                raise RetryRequested(timedelta(seconds=self.lease_seconds / 2), "leased to another worker")
            return
        log.info("%s job %s runs on %s", self.work.name, key, self.worker_id)
        self._cancelled[key] = cancelled = asyncio.Event()
        context.cancellation = cast(Any, _CancelRelay(context.cancellation, cancelled))
        run = asyncio.create_task(self._run(taken, cancelled), name=f"{self.work.name}-job")
        self._runs[key] = run
        try:
            await asyncio.wait({run})  # never raises: a stop cancels ``run``, not this handler
        finally:
            self._runs.pop(key, None)
            self._cancelled.pop(key, None)
        if run.cancelled():
            with contextlib.suppress(Exception):
                await self.work.release(taken, self.worker_id)
            raise RetryRequested(timedelta(0), "the process running it stopped")
        if run.exception() is not None:  # kept leased: tried again once the lease runs out, as after a crash
            raise RetryRequested(timedelta(seconds=self.lease_seconds), "the job failed unexpectedly")

    async def _run(self, job: J, cancelled: asyncio.Event) -> None:
        current = asyncio.current_task()
        assert current is not None
        renewer = asyncio.create_task(keep_lease(self.work, job, self.worker_id, self.lease_seconds, current))
        try:
            await self.work.run(job, self.worker_id, cancelled)
        except asyncio.CancelledError:
            if self._stopping:
                raise
            log.info("%s job %s was taken over by another worker", self.work.name, self.work.key(job))
        except Exception:
            log.exception("a %s job failed", self.work.name)
            raise
        finally:
            renewer.cancel()


class _CancelRelay:
    """Stands in for PgQueuer's cancel scope of one job (the listener calls its ``cancel``
    when a cancel NOTIFY names the job; the worker reads ``cancel_called``), and sets the
    job's ``cancelled`` event at once, so that no task polls the flag while the job runs."""

    def __init__(self, scope: Any, cancelled: asyncio.Event) -> None:
        self._scope = scope
        self._cancelled = cancelled
        if scope.cancel_called:  # the notice came before the job started here
            cancelled.set()

    @property
    def cancel_called(self) -> bool:
        return bool(self._scope.cancel_called)

    def cancel(self, *args: Any) -> None:
        self._scope.cancel(*args)
        self._cancelled.set()
