"""The agent loop: call the model, run the built-in tools it called, loop. It stops
at a call no built-in tool handles (the client's function), when a tool waits for
the client (an approval), at the output limit, or at ``MAX_TURNS``. Everything it
does goes out as canonical run events (``core.run_events``)."""

from __future__ import annotations

import time

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import BlockStart, Event, Failure
from switchyard.core.items import FunctionCall, Item
from switchyard.core.request import Request, ToolChoice
from switchyard.core.result import Choice, Folder
from switchyard.core.run_events import RunFinished, RunStarted, RunStatus
from switchyard.core.usage import Usage
from switchyard.engine.agent.cancel import RunCancelled, watched
from switchyard.engine.agent.spec import Cancelled, Emit, RunSpec
from switchyard.engine.generation import generate
from switchyard.engine.truncation import fit
from switchyard.tools.builtin import BuiltinConfigs, BuiltinTool, ToolKind, ToolServices
from switchyard.tools.table import TOOLS, for_model

MAX_TURNS = 16


class AgentRun:
    """One run. It is the ``RunScope`` its tools see."""

    def __init__(self, spec: RunSpec, services: ToolServices, emit: Emit, cancelled: Cancelled | None = None,
                 kinds: tuple[ToolKind, ...] = TOOLS) -> None:
        self.spec = spec
        self.services = services
        self._emit = emit
        self._cancelled = cancelled
        self.kinds = kinds
        self.usage = Usage()
        self.started = False
        self.tool_calls = 0

    # -- RunScope ---------------------------------------------------------------------------

    @property
    def owner_id(self) -> str:
        return self.spec.owner_id

    @property
    def configs(self) -> BuiltinConfigs:
        return self.spec.configs

    @property
    def tool_choice(self) -> ToolChoice | None:
        return self.spec.tool_choice

    @property
    def function_names(self) -> set[str]:
        return {t.name for t in self.spec.function_tools}

    @property
    def streamed(self) -> bool:
        return self.spec.streamed

    @property
    def seen(self) -> list[Item]:
        return self.spec.context

    @property
    def inputs(self) -> list[Item]:
        return self.spec.inputs

    def new_id(self, prefix: str) -> str:
        return self.spec.new_id(prefix)

    def count_tool_call(self) -> None:
        self.tool_calls += 1

    async def emit(self, event: Event) -> None:
        await self._start()
        await self._emit(event)

    # -- the run ----------------------------------------------------------------------------

    async def run(self) -> RunFinished:
        try:
            return await watched(self._run(), self._cancelled)
        except RunCancelled:
            return await self._end("cancelled")
        except SwitchyardError as error:
            if not self.started and error.status < 500 and self.spec.raise_early:
                raise
            return await self._end("failed", error=error)

    async def warm(self) -> RunFinished:
        """A run that only prepares state for a continuation: no model call, no output."""
        return await self._end("completed")

    async def _run(self) -> RunFinished:
        tools = [tool for kind in self.kinds if kind.open is not None
                 and (tool := await kind.open(self, self.services)) is not None]
        carried: list[Item] = []
        for tool in tools:
            carried += await tool.prepare()
        items = for_model(self.spec.context) + carried
        if self.spec.file_inputs is not None:
            await self.spec.file_inputs.resolve(items, self.spec.owner_id)
        limit = self.spec.max_tool_calls
        for turn in range(MAX_TURNS):
            offered = [*self.spec.function_tools, *(t for tool in tools for t in tool.offers())]
            request = self.spec.turn_request(items, offered, turn, limit is None or self.tool_calls < limit)
            if self.spec.truncate:
                request = await fit(self.spec.route, request)
            choice = await self._turn(request, tools)
            items.extend(choice.items)
            if choice.finish_reason == "length":
                return await self._end("incomplete", incomplete_reason="max_output_tokens")
            calls = [(call, _owner(call, tools)) for call in choice.tool_calls()]
            if not calls or any(tool is None for _, tool in calls):
                return await self._end("completed")
            wait = False
            for call, tool in calls:
                assert tool is not None
                step = await tool.run(call)
                items.extend(step.items)
                wait = wait or step.wait
            if wait:
                return await self._end("completed")
        return await self._end("completed")  # the loop bound: like OpenAI, stop calling tools

    async def _turn(self, request: Request, tools: list[BuiltinTool]) -> Choice:
        """One model turn, shown as it streams, except the calls built-in tools handle
        (their items show instead)."""
        folder = Folder()
        hidden: set[int] = set()
        async for event in generate(self.spec.route, request):
            if isinstance(event, Failure):
                raise event.error
            folder.add(event)
            if (isinstance(event, BlockStart) and event.kind == "tool_call"
                    and any(tool.handles(event.name or "") for tool in tools)):
                hidden.add(event.index)
            index = getattr(event, "index", None)
            if index is not None and index in hidden:
                continue
            await self.emit(event)
        self.usage = self.usage.add(folder.result.usage)
        return folder.result.choices[0] if folder.result.choices else Choice(index=0)

    async def _start(self) -> None:
        if not self.started:
            self.started = True
            await self._emit(RunStarted())

    async def _end(self, status: RunStatus, *, error: SwitchyardError | None = None,
                   incomplete_reason: str | None = None) -> RunFinished:
        """A cancelled run that showed nothing stays silent but for ``RunFinished``."""
        if status != "cancelled":
            await self._start()
        finished = RunFinished(status, self.usage, int(time.time()), error, incomplete_reason)
        await self._emit(finished)
        return finished


def _owner(call: FunctionCall, tools: list[BuiltinTool]) -> BuiltinTool | None:
    return next((tool for tool in tools if tool.handles(call.name)), None)
