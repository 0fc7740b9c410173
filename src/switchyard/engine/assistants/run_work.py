"""Assistants runs on the job seam (``switchyard.jobs``): a worker claims (lease runner)
or is handed (queue runner) a run that needs doing (queued; running, or cancelling,
under a lease that ran out; waiting for tool outputs past its deadline) and does it with
``RunService.execute``. A run whose worker died mid-segment is failed with the reason,
never left ``in_progress``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from switchyard.engine.assistants.runs import RunService
from switchyard.store.runs import RunRecord

JobScope = Callable[[RunRecord], AbstractContextManager[Any]]


class RunWork:
    name = "assistant-runs"

    def __init__(self, service: RunService, job_scope: JobScope | None = None) -> None:
        self.service = service
        self.job_scope = job_scope

    def key(self, job: RunRecord) -> str:
        return job.id

    async def claim(self, worker_id: str, lease_seconds: float) -> RunRecord | None:
        return await self.service.deps.runs.claim_next(worker_id, lease_seconds)

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> RunRecord | None:
        return await self.service.deps.runs.take(key, worker_id, lease_seconds)

    async def is_open(self, key: str) -> bool:
        return await self.service.deps.runs.needs_work(key)

    async def open_keys(self) -> list[str]:
        return await self.service.deps.runs.open_ids()

    async def renew(self, job: RunRecord, worker_id: str, lease_seconds: float) -> bool:
        return await self.service.deps.runs.renew_lease(job.id, worker_id, lease_seconds)

    async def release(self, job: RunRecord, worker_id: str) -> None:
        await self.service.deps.runs.release(job.id, worker_id)

    async def run(self, job: RunRecord, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        try:
            with self.job_scope(job) if self.job_scope is not None else nullcontext():
                await self.service.execute(job, worker_id, cancelled)
        finally:
            await self.service.deps.runs.release(job.id, worker_id)
