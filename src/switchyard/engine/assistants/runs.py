"""Assistants runs as a service: create (on a thread, or with a new one), list, retrieve,
modify, cancel, submit tool outputs, and the steps. Every run is a durable job: a run
created without ``stream`` waits ``queued`` for the job runner (``run_work.RunWork``);
a streamed one is leased at once to this process and runs here (``run_driver``), its
events sent as they come; if this process dies, the next worker ends it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from switchyard.codecs.openai_assistants.objects_out import thread_object
from switchyard.codecs.openai_assistants.run_objects import (
    RUN_TERMINAL,
    SEARCH_CONTENT_INCLUDE,
    public_step,
)
from switchyard.codecs.openai_assistants.run_request import RunParams
from switchyard.codecs.openai_assistants.run_stream import StreamEvent
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.assistants.errors import not_found
from switchyard.engine.assistants.run_driver import RunDriver, RunSettings
from switchyard.engine.assistants.run_segment import Persister, SegmentDeps, encoder_for
from switchyard.engine.assistants.service import Page
from switchyard.gateway.metering import caller_snapshot
from switchyard.jobs import JobRunner
from switchyard.store.ids import new_id
from switchyard.store.runs import RunRecord

Created = tuple[dict[str, Any], AsyncIterator[StreamEvent] | None]
"""The run as it is now, and its events when it is streamed."""


class RunService:
    def __init__(self, deps: SegmentDeps, settings: RunSettings | None = None) -> None:
        self.deps = deps
        self.settings = settings or RunSettings()
        self.driver = RunDriver(deps, self.settings)
        self.worker_id = self.driver.worker_id
        self.runner: JobRunner | None = None  # set once the job runner exists; woken on new work

    # -- create --------------------------------------------------------------------------

    async def create(self, owner_id: str, thread_id: str, params: RunParams, *, include: list[str] | None = None,
                     thread_event: dict[str, Any] | None = None) -> Created:
        """The queued run, and its event stream when ``params.stream``."""
        assistants = self.deps.assistants
        assistant = await assistants.get_assistant(owner_id, params.assistant_id)
        await assistants.get_thread(owner_id, thread_id)
        if await self.deps.runs.active_in_thread(thread_id, owner_id) is not None:
            raise invalid(f"Thread {thread_id} already has an active run.", "thread_id")
        defaults = assistant.body
        model = params.overrides.get("model") or defaults["model"]
        if self.deps.models.find(model) is None:  # a 400 now, not a failed run
            raise invalid(f"The requested model '{model}' does not exist.", "model", "model_not_found")
        self.deps.models.resolve(model)  # a model outside the caller's allowlist: 403
        instructions = params.overrides.get("instructions", defaults.get("instructions") or "")
        if params.additional_instructions:
            instructions = f"{instructions}\n\n{params.additional_instructions}" if instructions else \
                params.additional_instructions
        run_id = new_id("run_")
        body: dict[str, Any] = {
            "id": run_id, "object": "thread.run", "created_at": int(time.time()), "assistant_id": assistant.id,
            "thread_id": thread_id, "status": "queued", "started_at": None, "expires_at": None, "cancelled_at": None,
            "failed_at": None, "completed_at": None, "required_action": None, "last_error": None, "model": model,
            "instructions": instructions, "tools": params.overrides.get("tools", defaults.get("tools") or []),
            "metadata": params.metadata or {}, "incomplete_details": None, "usage": None,
            "temperature": params.overrides.get("temperature", defaults.get("temperature")),
            "top_p": params.overrides.get("top_p", defaults.get("top_p")),
            "max_prompt_tokens": params.overrides.get("max_prompt_tokens"),
            "max_completion_tokens": params.overrides.get("max_completion_tokens"),
            "truncation_strategy": params.overrides.get("truncation_strategy", {"type": "auto", "last_messages": None}),
            "response_format": params.overrides.get("response_format", defaults.get("response_format") or "auto"),
            "tool_choice": params.overrides.get("tool_choice", "auto"),
            "parallel_tool_calls": params.overrides.get("parallel_tool_calls", True),
        }
        for message in params.additional_messages:
            await assistants.add_message(owner_id, thread_id, message, run_id=run_id)
        request = {"caller": caller_snapshot(), "search_content": SEARCH_CONTENT_INCLUDE in (include or []),
                   "reasoning_effort": params.overrides.get("reasoning_effort", defaults.get("reasoning_effort"))}
        held = self.worker_id if params.stream else None
        record = await self.deps.runs.create(owner_id=owner_id, body=body, request=request, worker_id=held,
                                             lease_seconds=self.settings.lease_seconds)
        if not params.stream:
            await self._submit(run_id)
            return body, None
        encoder = encoder_for(record, [], action_seconds=self.settings.action_seconds)
        opening = encoder.created(thread_event)
        return body, self.driver.foreground(record, opening, encoder)

    async def create_and_run(self, owner_id: str, params: RunParams, *, include: list[str] | None = None
                             ) -> Created:
        assert params.thread is not None
        await self.deps.assistants.get_assistant(owner_id, params.assistant_id)
        thread, _ = await self.deps.assistants.create_thread(owner_id, params.thread, path="thread")
        shown = thread_object(thread.id, thread.created_at, thread.tool_resources, thread.metadata)
        return await self.create(owner_id, thread.id, params, include=include, thread_event=shown)

    # -- read and change -----------------------------------------------------------------

    async def get(self, owner_id: str, thread_id: str, run_id: str) -> dict[str, Any]:
        record = await self._record(owner_id, thread_id, run_id)
        return (await self.driver.expire_if_late(record)).body

    async def _record(self, owner_id: str, thread_id: str, run_id: str) -> RunRecord:
        record = await self.deps.runs.get(run_id, thread_id, owner_id)
        if record is None:
            await self.deps.assistants.get_thread(owner_id, thread_id)
            raise not_found("run", run_id, "run_id")
        return record

    async def list(self, owner_id: str, thread_id: str, page: Page) -> tuple[list[dict[str, Any]], bool]:
        await self.deps.assistants.get_thread(owner_id, thread_id)
        records, more = await self.deps.runs.list(thread_id, owner_id, limit=page.limit, order=page.order,
                                                  after=page.after, before=page.before)
        return [(await self.driver.expire_if_late(r)).body for r in records], more

    async def modify(self, owner_id: str, thread_id: str, run_id: str, metadata: dict[str, str] | None
                     ) -> dict[str, Any]:
        record = await self._record(owner_id, thread_id, run_id)
        body = {**record.body, "metadata": metadata or {}}
        await self.deps.runs.update_metadata(run_id, body)
        return (await self._record(owner_id, thread_id, run_id)).body

    async def cancel(self, owner_id: str, thread_id: str, run_id: str) -> dict[str, Any]:
        """A queued run or one waiting for tool outputs is cancelled at once; a running one
        is ``cancelling`` until its worker stops it."""
        record = await self.driver.expire_if_late(await self._record(owner_id, thread_id, run_id))
        if record.status in RUN_TERMINAL or record.status == "cancelling":
            if record.status in RUN_TERMINAL:
                raise invalid(f"Cannot cancel run with status '{record.status}'.", "run_id")
            return record.body
        await self.deps.runs.request_cancel(run_id)
        if record.status in ("queued", "requires_action") and await self.deps.runs.hold(
                run_id, self.worker_id, self.settings.lease_seconds):
            encoder = await self.driver.end_now(record, self.worker_id, "cancelled")
            await self.deps.runs.release(run_id, self.worker_id)
            return encoder.run
        body = {**record.body, "status": "cancelling"}
        await self.deps.runs.save(run_id, body=body)
        if self.runner is not None:
            await self.runner.cancel(run_id)  # reaches the process running it at once (it also polls)
        return body

    async def submit_tool_outputs(self, owner_id: str, thread_id: str, run_id: str, outputs: dict[str, str],
                                  stream: bool) -> Created:
        record = await self.driver.expire_if_late(await self._record(owner_id, thread_id, run_id))
        if record.status != "requires_action":
            raise invalid(f"Runs in status \"{record.status}\" do not accept tool outputs.", "run_id")
        wanted = [c["id"] for c in (record.body.get("required_action") or {}).get("submit_tool_outputs", {})
                  .get("tool_calls", [])]
        for n, call_id in enumerate(outputs):
            if call_id not in wanted:
                raise invalid(f"Invalid 'tool_outputs[{n}].tool_call_id': no tool call '{call_id}' awaits an output.",
                              f"tool_outputs[{n}].tool_call_id")
        missing = [c for c in wanted if c not in outputs]
        if missing:
            raise invalid(f"Expected tool outputs for call_ids {wanted}, got {list(outputs)}.", "tool_outputs")
        if not await self.deps.runs.hold(run_id, self.worker_id, self.settings.lease_seconds):
            raise SwitchyardError(ErrorKind.INVALID_REQUEST, "The run is being changed; try again.", param="run_id")
        encoder = await self.driver.encoder(record)
        opening = encoder.resumed(outputs)
        await Persister(self.deps, record, encoder, self.worker_id)(opening)
        await self.deps.runs.put_steps(list(encoder.steps.values()), owner_id)
        if not stream:
            await self.deps.runs.release(run_id, self.worker_id)
            await self._submit(run_id)
            return encoder.run, None
        current = await self.deps.runs.current(run_id)
        assert current is not None
        return encoder.run, self.driver.foreground(current, opening, await self.driver.encoder(current))

    # -- steps ---------------------------------------------------------------------------

    async def list_steps(self, owner_id: str, thread_id: str, run_id: str, page: Page, include: list[str]
                         ) -> tuple[list[dict[str, Any]], bool]:
        await self._record(owner_id, thread_id, run_id)
        steps, more = await self.deps.runs.list_steps(run_id, limit=page.limit, order=page.order, after=page.after,
                                                      before=page.before)
        return [_shown(s, include) for s in steps], more

    async def get_step(self, owner_id: str, thread_id: str, run_id: str, step_id: str, include: list[str]
                       ) -> dict[str, Any]:
        await self._record(owner_id, thread_id, run_id)
        step = await self.deps.runs.get_step(step_id, run_id, thread_id, owner_id)
        if step is None:
            raise not_found("run step", step_id, "step_id")
        return _shown(step, include)

    # -- running -------------------------------------------------------------------------

    async def execute(self, record: RunRecord, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        await self.driver.execute(record, worker_id, cancelled)

    async def aclose(self) -> None:
        await self.driver.aclose()

    async def _submit(self, run_id: str) -> None:
        if self.runner is not None:
            await self.runner.submit(run_id)


def _shown(step: dict[str, Any], include: list[str]) -> dict[str, Any]:
    return public_step(step, search_content=SEARCH_CONTENT_INCLUDE in include)
