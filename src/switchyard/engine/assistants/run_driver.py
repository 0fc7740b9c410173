"""Running Assistants runs: a claimed run's next step (expire it, cancel it, fail it when
its last worker died mid-segment, or run its next segment), a run streamed from the
process that answers (its lease renewed while it runs; it goes on when the client
leaves), and the end of a run waiting for tool outputs past its deadline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchyard.codecs.openai_assistants.run_stream import AssistantsRunEncoder, StreamEvent
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.run_events import RunFinished, RunStatus
from switchyard.core.usage import Usage
from switchyard.engine.assistants.run_segment import Persister, SegmentDeps, encoder_for, run_segment
from switchyard.engine.responses.run_stream import stop
from switchyard.store.ids import new_id
from switchyard.store.runs import RunRecord

log = logging.getLogger(__name__)
STOPPED = "The server running this run stopped before it finished."


@dataclass
class RunSettings:
    lease_seconds: float = 15.0
    action_seconds: int = 600


class RunDriver:
    def __init__(self, deps: SegmentDeps, settings: RunSettings) -> None:
        self.deps = deps
        self.settings = settings
        self.worker_id = "worker_" + new_id("", 16)
        self._detached: set[asyncio.Task[None]] = set()

    async def encoder(self, record: RunRecord) -> AssistantsRunEncoder:
        """An encoder over the stored run and its steps."""
        steps = await self.deps.runs.steps(record.id)
        return encoder_for(record, steps, action_seconds=self.settings.action_seconds)

    async def end_now(self, record: RunRecord, holder: str, status: RunStatus,
                      error: SwitchyardError | None = None) -> AssistantsRunEncoder:
        """End a run that is not running (held by ``holder``): what is open ends with it."""
        encoder = await self.encoder(record)
        await Persister(self.deps, record, encoder, holder)(
            encoder.feed(RunFinished(status, Usage(), int(time.time()), error)))
        return encoder

    async def execute(self, record: RunRecord, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        """Do what a claimed run needs; ``cancelled`` is set when a cancel reached this
        process (the run also polls its stored flag)."""
        if record.status == "requires_action":
            await self.expire_if_late(record, worker_id)
        elif record.cancel_requested or record.status == "cancelling":
            await self.end_now(record, worker_id, "cancelled")
        elif record.status == "in_progress":
            await self.end_now(record, worker_id, "failed", SwitchyardError(ErrorKind.SERVER, STOPPED))
        else:
            await run_segment(self.deps, record, worker_id, _drop, await self.encoder(record), cancelled)

    def foreground(self, record: RunRecord, opening: list[StreamEvent], encoder: AssistantsRunEncoder
                   ) -> AsyncIterator[StreamEvent]:
        """The run's events as it runs here (``opening`` first). A client that leaves does
        not stop the run (as OpenAI's runs go on): it finishes here, unheard."""
        queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()
        listening = True

        async def put(event: StreamEvent) -> None:
            if listening:
                await queue.put(event)

        async def produce() -> None:
            current = asyncio.current_task()
            assert current is not None
            renewer = asyncio.create_task(self._renew(record.id, current))
            try:
                await run_segment(self.deps, record, self.worker_id, put, encoder)
            finally:
                renewer.cancel()
                with contextlib.suppress(Exception):
                    await self.deps.runs.release(record.id, self.worker_id)
                await queue.put(None)

        async def events() -> AsyncIterator[StreamEvent]:
            nonlocal listening
            task = asyncio.create_task(produce())
            try:
                for event in opening:
                    yield event
                while (event := await queue.get()) is not None:
                    yield event
                try:
                    await task
                except asyncio.CancelledError:
                    me = asyncio.current_task()
                    if me is not None and me.cancelling():
                        raise
                    raise SwitchyardError(ErrorKind.SERVER, "The run was taken over by another worker.") from None
            finally:
                listening = False
                if not task.done():
                    self._detached.add(task)
                    task.add_done_callback(self._detached.discard)

        return events()

    async def aclose(self) -> None:
        """Stop the runs still going here for clients that left (their leases are given
        back: the next worker ends them)."""
        for task in list(self._detached):
            await stop(task)

    async def _renew(self, run_id: str, running: asyncio.Task[None]) -> None:
        """Keep the run's lease while it runs here; a lease another worker took (this one
        could not renew in time) stops the run here, as the job runner does."""
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                held = await self.deps.runs.renew_lease(run_id, self.worker_id, self.settings.lease_seconds)
            except Exception:
                log.exception("renewing a run's lease failed")
                continue
            if not held:
                running.cancel()
                return

    async def expire_if_late(self, record: RunRecord, worker_id: str | None = None) -> RunRecord:
        """A run whose wait for tool outputs ran out is ``expired`` (checked on every read,
        and by the workers)."""
        if record.status != "requires_action" or record.expires_at is None or record.expires_at > time.time():
            return record
        holder = worker_id or self.worker_id
        if worker_id is None and not await self.deps.runs.hold(record.id, holder, self.settings.lease_seconds):
            return record
        encoder = await self.encoder(record)
        await Persister(self.deps, record, encoder, holder)(encoder.expired())
        await self.deps.runs.release(record.id, holder)
        return await self.deps.runs.current(record.id) or record


async def _drop(event: StreamEvent) -> None:
    return None
