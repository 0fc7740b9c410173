"""What the batch surfaces call: create (OpenAI from an uploaded file, Anthropic from the
requests in the body), read, list, cancel, delete, and an ended batch's results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from switchyard.codecs import anthropic_batches
from switchyard.codecs.openai_batches import BatchCreate
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.gateway.principal_snapshot import snapshot
from switchyard.jobs import JobRunner
from switchyard.store.batches import Api, BatchRecord, BatchRepository
from switchyard.store.files import FileRepository

PREFIX = {"openai": "batch_", "anthropic": "msgbatch_"}
MAX_INPUT_BYTES = 200 * 1024 * 1024  # OpenAI's limit for a batch input file
NOUN = {"openai": "Batch", "anthropic": "Message Batch"}


def not_found(api: Api, batch_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No such {NOUN[api]} object: {batch_id}", param="batch_id")


class BatchService:
    def __init__(self, repo: BatchRepository, files: FileRepository, max_lines: int) -> None:
        self.repo = repo
        self.files = files
        self.max_lines = max_lines
        self.runner: JobRunner | None = None  # told when a batch is queued or cancelled

    async def _queued(self, batch: BatchRecord) -> BatchRecord:
        if self.runner is not None:
            await self.runner.submit(batch.id)
        return batch

    async def create_openai(self, principal: Principal, create: BatchCreate) -> BatchRecord:
        """A ``validating`` batch; its file is checked line by line by the runner."""
        record = await self.files.get(create.input_file_id, principal.owner_id)
        if record is None:
            raise SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {create.input_file_id}",
                                  param="input_file_id")
        if record.purpose != "batch":
            raise invalid(f"File {create.input_file_id} has purpose '{record.purpose}'; a batch's input file "
                          "must be uploaded with purpose 'batch'.", "input_file_id", "invalid_file_purpose")
        if record.bytes > MAX_INPUT_BYTES:
            raise invalid(f"File {create.input_file_id} has {record.bytes} bytes; a batch's input file may have at "
                          f"most {MAX_INPUT_BYTES}.", "input_file_id", "file_too_large")
        batch = await self.repo.create(
            principal.owner_id, "openai", prefix=PREFIX["openai"], endpoint=create.endpoint,
            request=create.stored(), caller=snapshot(principal), window_seconds=create.window_seconds,
        )
        return await self._queued(batch)

    async def create_anthropic(self, principal: Principal, lines: anthropic_batches.Lines) -> BatchRecord:
        batch = await self.repo.create(
            principal.owner_id, "anthropic", prefix=PREFIX["anthropic"], endpoint="/v1/messages",
            request={}, caller=snapshot(principal), window_seconds=anthropic_batches.WINDOW_SECONDS,
            model=str(lines[0][1].get("model")), lines=lines,
        )
        return await self._queued(batch)

    async def get(self, batch_id: str, owner_id: str, api: Api) -> BatchRecord:
        batch = await self.repo.get(batch_id, owner_id, api)
        if batch is None:
            raise not_found(api, batch_id)
        return batch

    async def list(self, owner_id: str, api: Api, *, limit: int, after: str | None = None,
                   before: str | None = None) -> tuple[list[BatchRecord], bool]:
        return await self.repo.list(owner_id, api, limit=limit, after=after, before=before)

    async def cancel(self, batch_id: str, owner_id: str, api: Api) -> BatchRecord:
        """``cancelling``: the process running the batch stops it and ends it ``cancelled``."""
        batch = await self.repo.request_cancel(batch_id, owner_id, api)
        if batch is None:
            raise not_found(api, batch_id)
        if api == "openai" and batch.status not in ("cancelling", "cancelled"):
            raise invalid(f"Batch {batch_id} is {batch.status} and can no longer be cancelled.", "batch_id")
        if self.runner is not None and batch.status == "cancelling":
            await self.runner.cancel(batch.id)
        return batch

    async def delete(self, batch_id: str, owner_id: str, api: Api) -> None:
        batch = await self.get(batch_id, owner_id, api)
        if not batch.ended:
            raise invalid(f"{NOUN[api]} {batch_id} is still processing; cancel it and wait for it to end "
                          "before deleting it.", "batch_id")
        if not await self.repo.delete(batch_id, owner_id, api):
            raise not_found(api, batch_id)

    async def results(self, batch_id: str, owner_id: str, api: Api,
                      render: Callable[[str, str, dict[str, Any]], dict[str, Any]]) -> AsyncIterator[bytes]:
        """An ended batch's lines as JSONL, one ``render(custom_id, state, result)`` each."""
        batch = await self.get(batch_id, owner_id, api)
        if not batch.ended:
            raise invalid(f"{NOUN[api]} {batch_id} has not ended; its results are not ready.", "batch_id")

        async def lines() -> AsyncIterator[bytes]:
            async for line in self.repo.lines(batch.id):
                yield orjson.dumps(render(line.custom_id, line.state, line.result or {})) + b"\n"

        return lines()
