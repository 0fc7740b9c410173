"""Background responses as durable jobs: ``BackgroundWork`` is their ``LeasedWork``
(``jobs/lease_runner.py``), run by the process's ``JobRunner`` (the lease runner on SQLite,
the PgQueuer queue on PostgreSQL). A queued response is claimed under a lease that is
renewed while it runs.

A response cannot be resumed mid-generation (its followers have seen its events), so a
response whose process died or stopped is not run again: the next worker to take it
(once its lease ran out, or its queue job was picked again) ends it ``failed`` with the
reason, never leaving it in progress."""

from __future__ import annotations

import asyncio
import logging
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
STOPPED = "The server running this response stopped before it finished."


class BackgroundWork:
    """The ``LeasedWork`` of background responses."""

    name = "background_response"

    def __init__(self, service: ResponsesService, decode: Decode, *, job_scope: JobScope | None = None,
                 call_services: CallServices | None = None) -> None:
        self.service = service
        self.repo = service.responses
        self.decode = decode
        self.job_scope = job_scope
        self.call_services = call_services

    def key(self, job: ResponseRecord) -> str:
        return job.id

    async def claim(self, worker_id: str, lease_seconds: float) -> ResponseRecord | None:
        return await self.repo.claim_next(worker_id, lease_seconds)

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> ResponseRecord | None:
        return await self.repo.take(key, worker_id, lease_seconds)

    async def renew(self, job: ResponseRecord, worker_id: str, lease_seconds: float) -> bool:
        """Always True: a run is never taken over while it goes on (another worker takes a
        response only once its lease ran out, and then fails it without running it), and a
        run that has just stored its end must not be stopped before it returns."""
        await self.repo.renew_lease(job.id, worker_id, lease_seconds)
        return True

    async def release(self, job: ResponseRecord, worker_id: str) -> None:
        """Nothing: a response stopped mid-run is failed by the next worker, once its lease runs out."""

    async def is_open(self, key: str) -> bool:
        return await self.repo.is_open(key)

    async def open_keys(self) -> list[str]:
        return await self.repo.open_background_ids()

    async def run(self, job: ResponseRecord, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        """The job observed like a request (metrics, spans, a log line), when the app observes calls."""
        if self.call_services is None:
            await self._run(job, cancelled)
            return
        trace = RequestTrace(new_request_id(), self.call_services, surface="openai.responses.background",
                             project_id=job.owner_id)
        status = 500
        try:
            with observing(trace):
                await self._run(job, cancelled)
            status = 200
        finally:
            await record_end(trace, status=status, method="JOB", path=f"background {job.id}")

    async def _run(self, record: ResponseRecord, cancelled: asyncio.Event | None) -> None:
        try:
            if record.attempts > 1:
                await self.service.give_up(record, STOPPED)
                return
            call = self.decode(record, self.service.stored_body(record))
            with self.job_scope(record) if self.job_scope is not None else nullcontext():
                await self.service.run_background(record, call, cancelled)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("background response %s failed", record.id)
            await self.service.give_up(record, f"The response could not be run: {exc}")
