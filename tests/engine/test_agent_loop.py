"""The agent loop over a scripted provider: what it shows, when it stops, what each
turn asks. Built-in tools are reached only through the table given to the run."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    BlockStart,
    Event,
    Failure,
    Finish,
    ItemDone,
    ItemStart,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart, text_message
from switchyard.core.request import Request, Tool
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted
from switchyard.core.tool_items import McpCall
from switchyard.engine.agent.loop import MAX_TURNS, AgentRun
from switchyard.engine.agent.spec import Cancelled, RunSpec
from switchyard.tools.builtin import BuiltinTool, RunScope, ToolKind, ToolServices, ToolStep
from tests.engine.fake_provider import FakeProvider, Turn, call_turn, route, text_turn

ECHO = Tool("echo", "Echo the text", {"type": "object"})
CLIENT_FN = Tool("lookup", "The client's own function", {"type": "object"})


@dataclass
class Echo:
    """A built-in tool stand-in: answers ``echo`` calls, or asks the client to wait for ``hold``."""

    scope: RunScope
    ran: list[str] = field(default_factory=list)

    async def prepare(self) -> list[Item]:
        return []

    def offers(self) -> list[Tool]:
        return [ECHO]

    def handles(self, name: str) -> bool:
        return name in ("echo", "hold")

    async def run(self, call: FunctionCall) -> ToolStep:
        self.ran.append(call.arguments)
        self.scope.count_tool_call()
        item = McpCall(self.scope.new_id("mcp_"), "echo", call.name, call.arguments, status="in_progress")
        await self.scope.emit(ItemStart(item))
        await self.scope.emit(ItemDone(McpCall(item.id, "echo", call.name, call.arguments, output=call.arguments)))
        if call.name == "hold":
            return ToolStep(wait=True)
        return ToolStep([FunctionCallOutput(call.call_id, [TextPart("echoed " + call.arguments)])])


@dataclass
class Harness:
    provider: FakeProvider
    events: list[RunEvent] = field(default_factory=list)
    tools: list[Echo] = field(default_factory=list)
    allowed: list[bool] = field(default_factory=list)

    def run(self, *, max_tool_calls: int | None = None, raise_early: bool = True,
            cancelled: Cancelled | None = None) -> AgentRun:
        async def open_echo(scope: RunScope, services: ToolServices) -> BuiltinTool | None:
            tool = Echo(scope)
            self.tools.append(tool)
            return tool

        def turn_request(items: list[Item], tools: list[Tool], turn: int, tools_allowed: bool) -> Request:
            self.allowed.append(tools_allowed)
            return Request(model="fake", items=list(items), tools=list(tools) if tools_allowed else [])

        async def emit(event: RunEvent) -> None:
            self.events.append(event)

        counter = itertools.count(1)
        context: list[Item] = [text_message("user", "hi")]
        spec = RunSpec(route(self.provider), context, list(context), turn_request, "owner",
                       lambda prefix: f"{prefix}{next(counter)}", function_tools=[CLIENT_FN],
                       max_tool_calls=max_tool_calls, raise_early=raise_early)
        return AgentRun(spec, ToolServices(), emit, cancelled,
                        kinds=(ToolKind("echo", open_echo, {}),))

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


def harness(*turns: Turn) -> Harness:
    return Harness(FakeProvider(list(turns)))


CASES = [
    pytest.param([text_turn("hello")], "completed", 1, None, id="text-answer"),
    pytest.param([call_turn(("c1", "lookup", "{}"))], "completed", 1, None, id="client-function-stops"),
    pytest.param([call_turn(("c1", "echo", "{\"a\":1}")), text_turn("done")], "completed", 2, None,
                 id="builtin-then-answer"),
    pytest.param([call_turn(("c1", "echo", "1"), ("c2", "lookup", "{}"))], "completed", 1, None,
                 id="mixed-call-stops-unrun"),
    pytest.param([call_turn(("c1", "hold", "{}")), text_turn("never")], "completed", 1, None,
                 id="tool-waits-for-client"),
    pytest.param([[*text_turn("cut")[:-1], Finish("length")]], "incomplete", 1, "max_output_tokens",
                 id="output-limit"),
    pytest.param([call_turn(("c1", "echo", "{}"))], "completed", MAX_TURNS, None, id="loop-bound"),
]


@pytest.mark.parametrize(("turns", "status", "model_calls", "reason"), CASES)
async def test_where_the_loop_stops(turns: list[Turn], status: str, model_calls: int, reason: str | None) -> None:
    h = harness(*turns)
    finished = await h.run().run()
    assert (finished.status, finished.incomplete_reason) == (status, reason)
    assert len(h.provider.requests) == model_calls
    assert isinstance(h.events[0], RunStarted) and h.events[-1] is finished
    assert sum(isinstance(e, RunFinished) for e in h.events) == 1
    played = [turns[min(i, len(turns) - 1)] for i in range(model_calls)]
    assert finished.usage.output_tokens == sum(e.usage.output_tokens for t in played if isinstance(t, list)
                                               for e in t if isinstance(e, UsageReport))


async def test_builtin_calls_are_hidden_and_their_items_shown() -> None:
    h = harness(call_turn(("c1", "echo", "{\"a\":1}")), text_turn("done"))
    await h.run().run()
    starts = [e for e in h.events if isinstance(e, BlockStart)]
    assert [s.kind for s in starts] == ["text"]  # the echo call block never shows
    items = [e for e in h.events if isinstance(e, ItemStart | ItemDone)]
    assert [(type(e).__name__, e.item.id) for e in items] == [("ItemStart", "mcp_1"), ("ItemDone", "mcp_1")]
    second = h.provider.requests[1].items
    assert second[-2:] == [FunctionCall("c1", "echo", "{\"a\":1}"),
                           FunctionCallOutput("c1", [TextPart("echoed {\"a\":1}")])]
    assert [t.name for t in h.provider.requests[0].tools] == ["lookup", "echo"]


async def test_max_tool_calls_takes_the_tools_away() -> None:
    h = harness(call_turn(("c1", "echo", "1")), call_turn(("c2", "echo", "2")), text_turn("done"))
    await h.run(max_tool_calls=1).run()
    assert h.allowed[:2] == [True, False]


async def test_a_refusal_before_anything_shown_is_raised() -> None:
    h = harness(SwitchyardError(ErrorKind.INVALID_REQUEST, "no", param="x"))
    with pytest.raises(SwitchyardError):
        await h.run().run()
    assert h.events == []


@pytest.mark.parametrize(("turn", "raise_early"), [
    pytest.param(SwitchyardError(ErrorKind.INVALID_REQUEST, "no"), False, id="background-refusal"),
    pytest.param(SwitchyardError(ErrorKind.UPSTREAM, "down"), True, id="server-error"),
    pytest.param([Start(), BlockStart(0, "text"), TextDelta(0, "par"),
                  Failure(SwitchyardError(ErrorKind.UPSTREAM, "cut"))], True, id="stream-broke"),
])
async def test_failures_end_the_run(turn: Turn, raise_early: bool) -> None:
    h = harness(turn)
    finished = await h.run(raise_early=raise_early).run()
    assert finished.status == "failed" and finished.error is not None
    assert isinstance(h.events[0], RunStarted) and h.events[-1] is finished


class Stuck(FakeProvider):
    """A backend that hangs: after ``Start`` when ``show_start``, else before anything."""

    def __init__(self, show_start: bool) -> None:
        super().__init__([])
        self.show_start = show_start

    async def generate(self, request: Request) -> AsyncIterator[Event]:
        if self.show_start:
            yield Start()
        await asyncio.Event().wait()
        yield TextDelta(0, "never")


@pytest.mark.parametrize("show_start", [False, True], ids=["before-start", "mid-turn"])
async def test_cancel_interrupts_the_run(show_start: bool) -> None:
    h = Harness(Stuck(show_start))
    asked = asyncio.Event()

    async def cancelled() -> bool:
        if not asked.is_set():
            asked.set()
            return False
        return True

    finished = await asyncio.wait_for(h.run(cancelled=cancelled).run(), 5)
    assert finished.status == "cancelled"
    assert [type(e) for e in h.events] == ([RunStarted, Start, RunFinished] if show_start else [RunFinished])
