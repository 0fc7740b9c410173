"""One segment of an Assistants run: from queued to ``requires_action`` or to its end.

The context is read back from the store each time (the thread's messages before the
run, then the run's own steps), so a segment runs the same in any process. The agent
loop's events go through ``AssistantsRunEncoder``; what they change is stored before the
events go out (a client that reads on seeing an event finds it saved): the run at each
of its lifecycle events, steps as they open and close, messages as they open and end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_assistants.message_items import message_item
from switchyard.codecs.openai_assistants.run_items import step_items
from switchyard.codecs.openai_assistants.run_objects import latest_container, usage_in, usage_out
from switchyard.codecs.openai_assistants.run_request import (
    function_tools,
    has_tool,
    reasoning,
    response_format,
    search_limit,
    tool_choice,
)
from switchyard.codecs.openai_assistants.run_stream import AssistantsRunEncoder, StreamEvent
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import ItemDone
from switchyard.core.items import Item, text_message
from switchyard.core.request import Request, Tool, ToolChoice
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted
from switchyard.core.tool_config import CodeInterpreterConfig, FileSearchConfig
from switchyard.core.tool_items import CodeInterpreterCall
from switchyard.core.usage import Usage
from switchyard.engine.agent.loop import AgentRun
from switchyard.engine.agent.spec import RunSpec
from switchyard.engine.assistants.run_files import ImageFiles
from switchyard.engine.assistants.service import AssistantsService
from switchyard.engine.file_inputs import FileInputs
from switchyard.gateway.router import ModelRegistry
from switchyard.store.ids import new_id
from switchyard.store.runs import RunRecord, RunRepository
from switchyard.tools.builtin import BuiltinConfigs, ToolServices

Emit = Callable[[StreamEvent], Awaitable[None]]
PERSISTED_RUN = ("thread.run.in_progress", "thread.run.requires_action", "thread.run.completed",
                 "thread.run.incomplete", "thread.run.failed", "thread.run.cancelled", "thread.run.expired",
                 "thread.run.queued", "thread.run.cancelling")


@dataclass
class SegmentDeps:
    runs: RunRepository
    assistants: AssistantsService
    models: ModelRegistry
    tools: ToolServices
    file_inputs: FileInputs | None = None
    action_seconds: int = 600
    image_files: ImageFiles | None = None


def encoder_for(record: RunRecord, steps: list[dict[str, Any]], *, action_seconds: int = 600
                ) -> AssistantsRunEncoder:
    waiting = next((s for s in steps if s["status"] == "in_progress" and s["type"] == "tool_calls"), None)
    return AssistantsRunEncoder(record.body, new_id=new_id, now=lambda: int(time.time()),
                                prior=usage_in(record.usage), search_content=bool(record.request.get("search_content")),
                                waiting_step=waiting, action_seconds=action_seconds)


class Persister:
    """Stores what the encoder's events changed, before they go out."""

    def __init__(self, deps: SegmentDeps, record: RunRecord, encoder: AssistantsRunEncoder,
                 worker_id: str | None) -> None:
        self.deps, self.record, self.encoder, self.worker_id = deps, record, encoder, worker_id

    async def __call__(self, events: list[StreamEvent]) -> None:
        owner, run = self.record.owner_id, self.encoder.run
        for name, data in events:
            if name == "thread.message.created":
                await self.deps.assistants.start_assistant_message(
                    owner, run["thread_id"], run_id=run["id"], assistant_id=run["assistant_id"], message_id=data["id"])
            elif name in ("thread.message.completed", "thread.message.incomplete"):
                reason = (data.get("incomplete_details") or {}).get("reason")
                await self.deps.assistants.update_message(owner, run["thread_id"], data["id"], content=data["content"],
                                                          status=data["status"], incomplete_reason=reason)
            elif name.startswith("thread.run.step.") and name != "thread.run.step.delta":
                await self.deps.runs.put_steps([self.encoder.steps[data["id"]]], owner)
            elif name in PERSISTED_RUN:
                if name == "thread.run.requires_action":
                    await self.deps.runs.put_steps(list(self.encoder.steps.values()), owner)
                await self.deps.runs.save(run["id"], body=dict(run), usage=usage_out(self.encoder.total_usage),
                                          worker_id=self.worker_id)


async def run_segment(deps: SegmentDeps, record: RunRecord, worker_id: str | None, emit: Emit,
                      encoder: AssistantsRunEncoder | None = None,
                      cancel_event: asyncio.Event | None = None) -> dict[str, Any]:
    """Run the segment of a held run to its end; the run as it ends (or waits)."""
    steps = await deps.runs.steps(record.id)
    encoder = encoder or encoder_for(record, steps, action_seconds=deps.action_seconds)
    persist = Persister(deps, record, encoder, worker_id)
    body = encoder.run

    async def out(events: list[StreamEvent]) -> None:
        await persist(events)
        for event in events:
            await emit(event)

    max_prompt = body.get("max_prompt_tokens")

    async def feed(event: RunEvent) -> None:
        if (deps.image_files is not None and isinstance(event, ItemDone)
                and isinstance(event.item, CodeInterpreterCall)):
            event = ItemDone(await deps.image_files.keep(record.owner_id, event.item), event.choice)
        if (isinstance(event, RunFinished) and event.status == "completed" and max_prompt is not None
                and encoder.prior.input_tokens + event.usage.input_tokens > max_prompt):
            event = RunFinished("incomplete", event.usage, event.finished_at, incomplete_reason="max_prompt_tokens")
        await out(encoder.feed(event))

    async def cancelled() -> bool:
        if cancel_event is not None and cancel_event.is_set():
            return True
        return await deps.runs.is_cancel_requested(record.id)

    try:
        spec = await _spec(deps, record, steps)
    except SwitchyardError as error:  # the assistant, the thread or the model is gone
        await feed(RunStarted())
        await feed(RunFinished("failed", Usage(), int(time.time()), error))
        return encoder.run
    await AgentRun(spec, deps.tools, feed, cancelled).run()
    return encoder.run


async def _spec(deps: SegmentDeps, record: RunRecord, steps: list[dict[str, Any]]) -> RunSpec:
    body, owner = record.body, record.owner_id
    route = deps.models.resolve(body["model"])
    assistant = await deps.assistants.get_assistant(owner, body["assistant_id"])
    thread = await deps.assistants.get_thread(owner, body["thread_id"])
    messages = await deps.assistants.thread_messages(owner, body["thread_id"])
    by_id = {m.body["id"]: m.body for m in messages}
    before = [m.body for m in messages if m.body.get("run_id") != record.id or m.body.get("role") == "user"]
    strategy = body.get("truncation_strategy") or {}
    if strategy.get("type") == "last_messages" and strategy.get("last_messages"):
        before = before[-int(strategy["last_messages"]):]
    context: list[Item] = [message_item(m) for m in before]
    if body.get("instructions"):
        context.insert(0, text_message("developer", body["instructions"]))
    context += step_items(steps, by_id)
    tools = list(body.get("tools") or [])
    resources = await deps.assistants.run_resources(owner, assistant, thread, messages)
    configs = BuiltinConfigs()
    if has_tool(tools, "file_search") and resources.vector_store_ids:
        configs.file_search = FileSearchConfig(list(resources.vector_store_ids), search_limit(tools) or 20)
    if has_tool(tools, "code_interpreter"):
        configs.code_interpreter = CodeInterpreterConfig(
            container=await _thread_container(deps, record, list(resources.code_interpreter_file_ids)),
            file_ids=list(resources.code_interpreter_file_ids))
    choice = tool_choice(body.get("tool_choice"))
    budget = body.get("max_completion_tokens")
    used = usage_in(record.usage).output_tokens

    def turn_request(items: list[Item], offered: list[Tool], turn: int, tools_allowed: bool) -> Request:
        wanted = choice if tools_allowed else ToolChoice("none")
        if turn > 0 and wanted is not None and wanted.mode in ("required", "tool"):
            wanted = None  # the forced tool ran once: let the model answer
        if wanted is not None and wanted.mode == "tool" and not any(t.name == wanted.name for t in offered):
            wanted = None
        return Request(model=body["model"], items=list(items), tools=list(offered),
                       tool_choice=wanted if offered else None, parallel_tool_calls=body.get("parallel_tool_calls"),
                       temperature=body.get("temperature"), top_p=body.get("top_p"),
                       max_output_tokens=None if budget is None else max(1, budget - used),
                       response_format=response_format(body.get("response_format")), stream=True,
                       reasoning=reasoning(record.request.get("reasoning_effort")),
                       param_names={"max_output_tokens": "max_completion_tokens", "reasoning": "reasoning_effort"})

    return RunSpec(route=route, context=context, inputs=[], turn_request=turn_request, owner_id=owner, new_id=new_id,
                   function_tools=function_tools(tools), configs=configs, tool_choice=choice,
                   truncate=strategy.get("type", "auto") == "auto", streamed=True, raise_early=False,
                   file_inputs=deps.file_inputs)


async def _thread_container(deps: SegmentDeps, record: RunRecord, file_ids: list[str]) -> str | None:
    """The thread's code container: the one its last code ran in while it lives, else a new
    one holding the run's files (None, for the tool to make one, without a code runner)."""
    runner = deps.tools.code
    if runner is None:
        return None
    last = latest_container(await deps.runs.thread_steps(record.thread_id, record.owner_id))
    container: str = await runner.container_for(record.owner_id, None, file_ids, [last] if last else [], "tools")
    return container
