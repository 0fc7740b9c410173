"""What one agent run needs: its model, its context, and how to ask each turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from switchyard.core.items import Item
from switchyard.core.request import Request, Tool, ToolChoice
from switchyard.core.run_events import RunEvent
from switchyard.engine.file_inputs import FileInputs
from switchyard.gateway.router import Route
from switchyard.tools.builtin import BuiltinConfigs

TurnRequest = Callable[[list[Item], list[Tool], int, bool], Request]
"""``(items, tools, turn, tools_allowed)`` → the model request of turn ``turn`` (from 0);
``tools_allowed`` is false once ``max_tool_calls`` is spent."""

Emit = Callable[[RunEvent], Awaitable[None]]
Cancelled = Callable[[], Awaitable[bool]]


@dataclass(slots=True)
class RunSpec:
    """``context`` is canonical (instructions, history, then ``inputs``, the run's own
    input); built-in tool items in it are replayed for the model by their tools."""

    route: Route
    context: list[Item]
    inputs: list[Item]
    turn_request: TurnRequest
    owner_id: str
    new_id: Callable[[str], str]
    function_tools: list[Tool] = field(default_factory=list)
    configs: BuiltinConfigs = field(default_factory=BuiltinConfigs)
    tool_choice: ToolChoice | None = None
    max_tool_calls: int | None = None
    truncate: bool = False
    streamed: bool = False
    """The client sees the run as it goes (tools may show progress, e.g. partial images)."""
    raise_early: bool = True
    """A refusal (a 4xx) before the run showed anything is raised, not a failed run."""
    file_inputs: FileInputs | None = None
