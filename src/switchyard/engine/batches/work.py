"""Running one batch, from wherever it stopped: validate its input file (OpenAI), run
its pending lines a few at a time, then end it (completed, expired or cancelled) with
its output and error files. Every step is stored as it happens, so a batch whose
process stopped is resumed by another without redoing a finished line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from switchyard.codecs import openai_batches
from switchyard.core.errors import SwitchyardError
from switchyard.engine.batches.files import read_lines, request_id_of, write_file
from switchyard.engine.batches.lines import LineCalls, LineRunner
from switchyard.gateway.principal_snapshot import restore
from switchyard.store.batches import PENDING, BatchRecord, BatchRepository, LineRecord
from switchyard.store.blobs import BlobStore
from switchyard.store.files import FileRepository
from switchyard.store.ids import new_id

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.25  # how often a running batch looks for a cancel (from any process) and its expiry
FLUSH_SECONDS = 0.1  # finished lines are written together, at most this long after they finish
FLUSH_LINES = 64
GIVEN_UP: dict[str, Any] = {}
UNEXPECTED = "The server met an unexpected error running this request."


@dataclass(frozen=True, slots=True)
class Limits:
    per_batch: int
    per_model: int
    max_lines: int
    log_every: int
    max_attempts: int = 5


class ModelSlots:
    """How many batch lines may call each model at once in this process, across batches:
    ``caps`` by public model name, ``default`` for the others; ``canonical`` maps a name a
    line asks for (an alias) to the model it reaches."""

    def __init__(self, default: int, caps: Mapping[str, int] | None = None,
                 canonical: Callable[[str], str] = str) -> None:
        self.default = default
        self.caps = dict(caps or {})
        self.canonical = canonical
        self._slots: dict[str, asyncio.Semaphore] = {}

    def of(self, model: str) -> asyncio.Semaphore:
        name = self.canonical(model)
        if name not in self._slots:
            self._slots[name] = asyncio.Semaphore(self.caps.get(name, self.default))
        return self._slots[name]


class BatchWork:
    """The ``LeasedWork`` of batches (``jobs/lease_runner.py``)."""

    name = "batch"

    def __init__(self, repo: BatchRepository, files: FileRepository, blobs: BlobStore,
                 calls: dict[str, LineCalls], lines: LineRunner, limits: Limits,
                 clock: Callable[[], float] = time.time, model_slots: ModelSlots | None = None,
                 watch_seconds: float = WATCH_SECONDS) -> None:
        self.repo = repo
        self.files = files
        self.blobs = blobs
        self.calls = calls
        self.lines = lines
        self.limits = limits
        self.model_slots = model_slots or ModelSlots(limits.per_model)
        self.clock = clock
        self.watch_seconds = watch_seconds  # polling for a cancel or the expiry; a pushed cancel comes sooner

    def key(self, job: BatchRecord) -> str:
        return job.id

    async def claim(self, worker_id: str, lease_seconds: float) -> BatchRecord | None:
        return await self.repo.claim_next(worker_id, lease_seconds)

    async def renew(self, job: BatchRecord, worker_id: str, lease_seconds: float) -> bool:
        return await self.repo.renew_lease(job.id, worker_id, lease_seconds)

    async def release(self, job: BatchRecord, worker_id: str) -> None:
        await self.repo.release(job.id, worker_id)

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> BatchRecord | None:
        return await self.repo.take(key, worker_id, lease_seconds)

    async def is_open(self, key: str) -> bool:
        batch = await self.repo.current(key)
        return batch is not None and not batch.ended

    async def open_keys(self) -> list[str]:
        return await self.repo.open_ids()

    async def run(self, job: BatchRecord, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        if job.attempts > self.limits.max_attempts:
            await self._give_up(job, worker_id)
            return
        if job.status == "validating" and not await self._validate(job, worker_id):
            return
        batch = await self.repo.current(job.id)
        if batch is None:
            return
        if batch.status in ("in_progress", "cancelling"):
            pending = await self.repo.pending_count(batch.id)
            if pending < batch.total:
                log.info("batch %s resumed: %d of %d requests still to run", batch.id, pending, batch.total)
            await _Run(self, batch, cancelled).lines()
        await self._end(batch.id, worker_id)

    async def _validate(self, batch: BatchRecord, worker_id: str) -> bool:
        try:
            raw = await read_lines(self.files, self.blobs, batch.request["input_file_id"], batch.owner_id)
        except SwitchyardError as error:
            await self.repo.fail(batch.id, worker_id, [{"code": "invalid_file", "message": error.message,
                                                        "param": "input_file_id", "line": None}])
            return False
        lines, errors = openai_batches.parse_lines(raw, batch.endpoint, self.limits.max_lines)
        if errors.count:
            log.info("batch %s failed validation: %d errors", batch.id, errors.count)
            await self.repo.fail(batch.id, worker_id, errors.data)
            return False
        first = lines[0][1].get("model") if lines else None
        model = first if isinstance(first, str) else None
        if not await self.repo.start_lines(batch.id, worker_id, lines, model):
            current = await self.repo.current(batch.id)
            return current is not None and current.status == "cancelling"
        return True

    async def _give_up(self, job: BatchRecord, worker_id: str) -> None:
        """A batch that stopped ``max_attempts`` times without finishing (its process died
        or an unexpected error ended its run) is not tried again: what finished is kept, the
        requests still pending end as errors saying why, and the batch ends."""
        message = (f"This request was not run: the batch was stopped {job.attempts - 1} times by a crash or an "
                   "unexpected error, and was given up.")
        log.error("batch %s given up after %d interrupted runs", job.id, job.attempts - 1)
        if job.status == "validating":
            await self.repo.fail(job.id, worker_id, [{"code": "server_error", "message": message, "param": None,
                                                      "line": None}])
            return
        await self.repo.settle_pending(job.id, "errored", _server_error(job.api, message))
        await self._end(job.id, worker_id)

    async def _end(self, batch_id: str, worker_id: str) -> None:
        batch = await self.repo.current(batch_id)
        if batch is None or batch.ended:
            return
        if batch.status == "cancelling":
            await self.repo.settle_pending(batch.id, "canceled", GIVEN_UP)
            status = "cancelled"
        elif self.clock() >= batch.expires_at and await self.repo.pending_count(batch.id):
            await self.repo.settle_pending(batch.id, "expired", GIVEN_UP)
            status = "expired"
        else:
            await self.repo.finalizing(batch.id, worker_id)
            status = "completed"
        output = error = None
        if batch.api == "openai":
            output = await write_file(batch, self.repo, self.files, self.blobs, ("succeeded",), "output",
                                      _openai_line)
            error = await write_file(batch, self.repo, self.files, self.blobs, ("errored", "canceled", "expired"),
                                     "error", _openai_line)
        await self.repo.end(batch.id, worker_id, status, output_file_id=output.id if output else None,
                            error_file_id=error.id if error else None)
        done = await self.repo.current(batch.id)
        if done is not None:
            log.info("batch %s %s: %d succeeded, %d errored, %d cancelled, %d expired of %d", done.id, status,
                     done.succeeded, done.errored, done.canceled, done.expired, done.total)


def _server_error(api: str, message: str) -> dict[str, Any]:
    """The result of a request that met a fault of ours, as its surface answers a server error."""
    body: dict[str, Any]
    if api == "anthropic":
        body = {"type": "error", "error": {"type": "api_error", "message": message}}
    else:
        body = {"error": {"message": message, "type": "server_error", "param": None, "code": "batch_interrupted"}}
    return {"status_code": 500, "request_id": None, "body": body}


def _openai_line(line: LineRecord) -> dict[str, Any]:
    return openai_batches.output_line(request_id_of(line), line.custom_id, line.state, line.result or {})


class _Run:
    """The pending lines of one batch, at most ``per_batch`` at a time, until they are done,
    the batch is cancelled, or its completion window ends."""

    def __init__(self, work: BatchWork, batch: BatchRecord, cancelled: asyncio.Event | None) -> None:
        self.work = work
        self.batch = batch
        self.cancelled = cancelled or asyncio.Event()
        self.principal = restore(batch.owner_id, batch.caller)
        self.surface = f"{batch.api}.batch"
        self.call = work.calls[batch.api][batch.endpoint]
        self.slots = asyncio.Semaphore(work.limits.per_batch)
        self.stopped = asyncio.Event()
        self.finished = 0
        self.logged = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.outcomes: list[tuple[int, str, dict[str, Any]]] = []
        self.outcome_added = asyncio.Event()
        self.closing = False

    async def lines(self) -> None:
        watcher = asyncio.create_task(self._watch())
        writer = asyncio.create_task(self._write())
        try:
            if self.batch.status == "in_progress":
                await self._dispatch()
        finally:
            watcher.cancel()
            for task in self.tasks:
                task.cancel()
            for task in list(self.tasks):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.closing = True
            self.outcome_added.set()
            await writer  # what finished is kept, also when the run is stopped

    async def _write(self) -> None:
        while not self.closing:
            await self.outcome_added.wait()
            if len(self.outcomes) < FLUSH_LINES and not self.closing:
                await asyncio.sleep(FLUSH_SECONDS)
            self.outcome_added.clear()
            await self._flush()
        await self._flush()

    async def _flush(self) -> None:
        outcomes, self.outcomes = self.outcomes, []
        if outcomes:
            try:
                self.finished += await self.work.repo.finish_lines(self.batch.id, outcomes)
            except BaseException:
                self.outcomes[:0] = outcomes
                raise
            every = self.work.limits.log_every
            for mark in range((self.logged // every + 1) * every, self.finished + 1, every):
                log.info("batch %s: %d more requests done this run, of %d in the batch", self.batch.id, mark,
                         self.batch.total)
            self.logged = self.finished

    async def _dispatch(self) -> None:
        async for line in self.work.repo.lines(self.batch.id, states=(PENDING,)):
            await self.slots.acquire()
            if self.stopped.is_set():
                self.slots.release()
                return
            task = asyncio.create_task(self._line(line))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        while self.tasks and not self.stopped.is_set():
            stop = asyncio.create_task(self.stopped.wait())
            await asyncio.wait({*self.tasks, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()

    async def _watch(self) -> None:
        """A cancel (asked on any process) or the end of the completion window stops new
        lines and the ones in flight, which stay pending."""
        while True:
            with contextlib.suppress(TimeoutError):  # a pushed cancel ends the wait at once
                await asyncio.wait_for(self.cancelled.wait(), self.work.watch_seconds)
            self.cancelled.clear()
            current = await self.work.repo.current(self.batch.id)
            if current is None or current.status != "in_progress" or self.work.clock() >= self.batch.expires_at:
                self.stopped.set()
                for task in self.tasks:
                    task.cancel()
                return

    async def _line(self, line: LineRecord) -> None:
        try:
            model = str(line.body.get("model") or self.batch.endpoint)
            try:
                answer = await self.work.lines.run(self.call, self.principal, self.surface, line.body,
                                                   f"{self.batch.id} line {line.line}", self.work.model_slots.of(model))
            except Exception:  # a fault of ours: this line ends as a server error, the batch goes on
                log.exception("batch %s line %d failed unexpectedly", self.batch.id, line.line)
                state, result = "errored", _server_error(self.batch.api, UNEXPECTED)
            else:
                state = "succeeded" if 200 <= answer.status < 300 else "errored"
                result = {"status_code": answer.status, "request_id": answer.request_id, "body": answer.body}
            self.outcomes.append((line.line, state, {"id": new_id("batch_req_"), **result}))
            self.outcome_added.set()
        finally:
            self.slots.release()
