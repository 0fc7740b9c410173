"""The in-process job runner for background responses. Jobs live in the store:
a runner claims one with a lease, renews the lease while it runs, and a
response whose runner died (its lease ran out) is marked failed, never left
in progress."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from switchyard.engine.responses.service import ResponsesService
from switchyard.gateway.telemetry.access import record_end
from switchyard.gateway.telemetry.request_trace import CallServices, RequestTrace, new_request_id, observing
from switchyard.store.responses import ResponseRecord

log = logging.getLogger(__name__)

Decode = Callable[[ResponseRecord, dict[str, Any]], Any]  # the record and its opened body
JobScope = Callable[[ResponseRecord], AbstractContextManager[Any]]  # entered while a job runs (metering)


class BackgroundRunner:
    def __init__(self, service: ResponsesService, decode: Decode, *, lease_seconds: float = 15.0,
                 concurrency: int = 4, idle_poll_seconds: float = 1.0, job_scope: JobScope | None = None,
                 call_services: CallServices | None = None) -> None:
        self.service = service
        self.job_scope = job_scope
        self.call_services = call_services
        self.decode = decode
        self.worker_id = "worker_" + secrets.token_hex(6)
        self.lease_seconds = lease_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._loop_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="background-runner")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _loop(self) -> None:
        repo = self.service.responses
        while True:
            await self._slots.acquire()
            try:
                record = await repo.claim_next(self.worker_id, self.lease_seconds)
            except Exception:
                log.exception("claiming a background response failed")
                record = None
            if record is None:
                self._slots.release()
                self.service.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.service.wakeup.wait(), self.idle_poll_seconds)
                continue
            task = asyncio.create_task(self._run(record))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, record: ResponseRecord) -> None:
        """The job observed like a request (metrics, spans, a log line), when the app observes calls."""
        if self.call_services is None:
            await self._run_job(record)
            return
        trace = RequestTrace(new_request_id(), self.call_services, surface="openai.responses.background",
                             project_id=record.owner_id)
        status = 500
        try:
            with observing(trace):
                await self._run_job(record)
            status = 200
        finally:
            await record_end(trace, status=status, method="JOB", path=f"background {record.id}")

    async def _run_job(self, record: ResponseRecord) -> None:
        renewer = asyncio.create_task(self._renew(record.id))
        try:
            if record.attempts > 1:
                await self._give_up(record, "The server running this response stopped before it finished.")
                return
            call = self.decode(record, self.service.stored_body(record))
            with self.job_scope(record) if self.job_scope is not None else nullcontext():
                await self.service.run_background(record, call)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("background response %s failed", record.id)
            await self._give_up(record, f"The response could not be run: {exc}")
        finally:
            renewer.cancel()
            self._slots.release()

    async def _renew(self, response_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            await self.service.responses.renew_lease(response_id, self.worker_id, self.lease_seconds)

    async def _give_up(self, record: ResponseRecord, message: str) -> None:
        await self.service.give_up(record, message)
