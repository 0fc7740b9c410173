"""One response: its stored wire context decoded once to canonical items, the agent
loop run over it, and the loop's events encoded as Responses stream events."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.openai_responses import ResponsesCall, items_to_canonical
from switchyard.codecs.openai_responses.run_out import ResponsesRunEncoder
from switchyard.core.errors import SwitchyardError
from switchyard.core.items import Item, text_message
from switchyard.core.request import Request, Tool
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted
from switchyard.core.usage import Usage
from switchyard.engine.agent.loop import AgentRun
from switchyard.engine.agent.spec import Cancelled, RunSpec
from switchyard.engine.file_inputs import FileInputs
from switchyard.engine.responses.model_request import model_request
from switchyard.gateway.router import Route
from switchyard.tools.builtin import BuiltinConfigs, ToolServices

WireEmit = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class RunContext:
    response_id: str
    call: ResponsesCall
    route: Route
    history: list[dict[str, Any]]
    input_items: list[dict[str, Any]]
    created_at: int
    services: ToolServices
    new_item_id: Callable[[str], str]
    background: bool = False
    owner_id: str = ""
    file_inputs: FileInputs | None = None


@dataclass
class RunOutcome:
    status: str
    body: dict[str, Any]
    output: list[dict[str, Any]] = field(default_factory=list)


def canonical_context(call: ResponsesCall, history: list[dict[str, Any]],
                      inputs: list[dict[str, Any]]) -> tuple[list[Item], list[Item]]:
    """``(context, inputs)`` as canonical items; instructions first (never carried over)."""
    own = items_to_canonical(inputs)
    context = [*items_to_canonical(history, inputs_from=len(history)), *own]
    if call.instructions:
        context.insert(0, text_message("developer", call.instructions))
    return context, own


class ResponseRun:
    def __init__(self, ctx: RunContext, emit: WireEmit, cancelled: Cancelled | None = None) -> None:
        self.ctx = ctx
        self._wire_emit = emit
        self._cancelled = cancelled
        self.encoder = ResponsesRunEncoder(ctx.call, response_id=ctx.response_id, created_at=ctx.created_at,
                                           new_item_id=ctx.new_item_id, background=ctx.background)

    def body(self, status: str) -> dict[str, Any]:
        return self.encoder.body(status)

    async def run(self) -> RunOutcome:
        try:
            agent = self._agent()
        except SwitchyardError as error:  # a context that does not decode: as the loop treats a refusal
            if error.status < 500 and not self.ctx.background:
                raise
            await self._emit(RunStarted())
            await self._emit(RunFinished("failed", Usage(), int(time.time()), error))
            return self._outcome()
        await agent.run()
        return self._outcome()

    async def warm(self) -> RunOutcome:
        await self._agent().warm()
        return self._outcome()

    def _agent(self) -> AgentRun:
        call = self.ctx.call
        context, inputs = canonical_context(call, self.ctx.history, self.ctx.input_items)
        stream = bool(call.stream or self.ctx.background)

        def turn_request(items: list[Item], tools: list[Tool], turn: int, tools_allowed: bool) -> Request:
            return model_request(call, items, tools, tools_allowed=tools_allowed, stream=stream,
                                 forced_done=turn > 0)

        spec = RunSpec(
            route=self.ctx.route, context=context, inputs=inputs, turn_request=turn_request,
            owner_id=self.ctx.owner_id, new_id=self.ctx.new_item_id, function_tools=list(call.function_tools),
            configs=BuiltinConfigs(file_search=call.file_search, mcp=list(call.mcp_tools),
                                   image_generation=call.image_generation,
                                   code_interpreter=call.code_interpreter),
            tool_choice=call.tool_choice, max_tool_calls=call.max_tool_calls, truncate=call.truncation == "auto",
            streamed=stream,
            raise_early=not self.ctx.background, file_inputs=self.ctx.file_inputs,
        )
        return AgentRun(spec, self.ctx.services, self._emit, self._cancelled)

    async def _emit(self, event: RunEvent) -> None:
        for wire in self.encoder.feed(event):
            await self._wire_emit(wire)

    def _outcome(self) -> RunOutcome:
        body = self.encoder.final if self.encoder.final is not None else self.encoder.body(self.encoder.status)
        return RunOutcome(str(body["status"]), body, list(self.encoder.output))
