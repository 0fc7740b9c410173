"""The MCP tool in the agent loop, against a real MCP server on loopback
(tests/fakes/mcp_server.py) and a scripted model: listing, calls, approvals."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import ItemDone, ItemStart
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, text_message
from switchyard.core.request import Request, Tool
from switchyard.core.run_events import RunEvent, RunFinished
from switchyard.core.tool_config import ApprovalPolicy, McpToolConfig
from switchyard.core.tool_items import (
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    McpToolSpec,
)
from switchyard.engine.agent.loop import AgentRun
from switchyard.engine.agent.spec import RunSpec
from switchyard.net.egress import EgressPolicy
from switchyard.tools.builtin import BuiltinConfigs, ToolServices
from switchyard.tools.mcp import McpClient
from tests.engine.fake_provider import FakeProvider, Turn, call_turn, route, text_turn
from tests.fakes.mcp_server import start_mcp_server

LOOPBACK = EgressPolicy(["127.0.0.1"])


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    url, stop = start_mcp_server()
    yield url
    stop()


async def run(url: str, turns: list[Turn], *, policy: ApprovalPolicy = "never", history: list[Item] | None = None,
              inputs: list[Item] | None = None) -> tuple[FakeProvider, list[RunEvent]]:
    provider = FakeProvider(turns)
    events: list[RunEvent] = []

    async def emit(event: RunEvent) -> None:
        events.append(event)

    def turn_request(items: list[Item], tools: list[Tool], turn: int, allowed: bool) -> Request:
        return Request(model="fake", items=list(items), tools=list(tools))

    counter = itertools.count(1)
    own = inputs if inputs is not None else [text_message("user", "add 2 and 3")]
    config = McpToolConfig("calc", url, allowed_tools=["add", "echo"], require_approval=policy)
    spec = RunSpec(route(provider), [*(history or []), *own], own, turn_request, "alice",
                   lambda prefix: f"{prefix}{next(counter)}", function_tools=[Tool("echo", None, {})],
                   configs=BuiltinConfigs(mcp=[config]))
    await AgentRun(spec, ToolServices(mcp=McpClient(egress=LOOPBACK)), emit).run()
    return provider, events


def shown(events: list[RunEvent]) -> list[tuple[str, object]]:
    return [(type(e).__name__, e.item) for e in events if isinstance(e, ItemStart | ItemDone)]


async def test_tools_are_listed_offered_and_called(server_url: str) -> None:
    provider, events = await run(server_url, [call_turn(("c1", "add", "{\"a\": 2, \"b\": 3}")), text_turn("5")])
    (started, begun), (done, listing) = shown(events)[:2]
    assert (started, begun) == ("ItemStart", McpListTools("mcpl_1", "calc"))
    assert done == "ItemDone" and isinstance(listing, McpListTools) and listing.error is None
    assert [(t.name, t.description) for t in listing.tools] == [("add", "Add two integers."),
                                                                ("echo", "Echo the text back.")]
    assert listing.tools[0].input_schema["required"] == ["a", "b"]
    names = [t.name for t in provider.requests[0].tools]
    assert names == ["echo", "add", "calc__echo"]  # the client's echo keeps its name
    assert shown(events)[2:] == [
        ("ItemStart", McpCall("mcp_2", "calc", "add", "{\"a\": 2, \"b\": 3}", status="in_progress")),
        ("ItemDone", McpCall("mcp_2", "calc", "add", "{\"a\": 2, \"b\": 3}", output="5"))]
    answer = provider.requests[1].items[-1]
    assert isinstance(answer, FunctionCallOutput) and answer.text() == "5" and not answer.is_error


async def test_a_listing_in_the_history_is_reused(server_url: str) -> None:
    listing = McpListTools("mcpl_old", "calc", [McpToolSpec("add", {"type": "object"}, "Adds")])
    provider, events = await run(server_url, [text_turn("ok")], history=[listing])
    assert shown(events) == []
    assert [t.name for t in provider.requests[0].tools] == ["echo", "add"]


@pytest.mark.parametrize(("policy", "held"), [
    pytest.param("always", True, id="always"),
    pytest.param("never", False, id="never"),
    pytest.param({"never": {"tool_names": ["add"]}}, False, id="never-list"),
    pytest.param({"always": {"tool_names": ["add"]}}, True, id="always-list"),
])
async def test_approval_policy(server_url: str, policy: ApprovalPolicy, held: bool) -> None:
    provider, events = await run(server_url, [call_turn(("c1", "add", "{\"a\": 1, \"b\": 1}")), text_turn("2")],
                                 policy=policy)
    kinds = [type(item).__name__ for kind, item in shown(events) if kind == "ItemDone"]
    assert kinds == (["McpListTools", "McpApprovalRequest"] if held else ["McpListTools", "McpCall"])
    assert len(provider.requests) == (1 if held else 2)
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"


@pytest.mark.parametrize(("approve", "expected"), [
    pytest.param(True, "2", id="approved-runs"),
    pytest.param(False, "not now", id="declined"),
])
async def test_an_approval_answer_is_carried_out(server_url: str, approve: bool, expected: str) -> None:
    asked = McpApprovalRequest("mcpr_9", "calc", "add", "{\"a\": 1, \"b\": 1}")
    provider, events = await run(server_url, [text_turn("done")], policy="always", history=[asked],
                                 inputs=[McpApprovalResponse("mcpr_9", approve, "not now")])
    carried = provider.requests[0].items[-2:]
    assert carried[0] == FunctionCall("mcpr_9", "add", "{\"a\": 1, \"b\": 1}")
    assert isinstance(carried[1], FunctionCallOutput) and carried[1].text() == expected
    assert carried[1].is_error is (not approve)
    calls = [item for kind, item in shown(events) if kind == "ItemDone" and isinstance(item, McpCall)]
    assert [c.output for c in calls] == (["2"] if approve else [])


async def test_an_answer_to_no_request_is_refused(server_url: str) -> None:
    """A 400 while nothing was shown; once the listing went out, the run fails with it."""
    stray = [McpApprovalResponse("mcpr_none", True)]
    listing = McpListTools("mcpl_old", "calc", [McpToolSpec("add", {"type": "object"})])
    with pytest.raises(SwitchyardError) as info:
        await run(server_url, [text_turn("x")], history=[listing], inputs=stray)
    assert info.value.param == "input" and "mcpr_none" in info.value.message
    provider, events = await run(server_url, [text_turn("x")], inputs=stray)
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "failed"
    assert finished.error is not None and "mcpr_none" in finished.error.message
    assert provider.requests == []
