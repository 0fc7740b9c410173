"""The contract between the agent loop and a built-in tool.

A ``ToolKind`` is one entry of the table (``tools.table``): it opens a ``BuiltinTool``
for a run whose request configures it, and says how its past items read to a model
(``replay``). The loop knows tools only through this contract: what each offers the
model, which calls each handles, and how it runs them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from switchyard.core.events import Event
from switchyard.core.items import FunctionCall, Item
from switchyard.core.request import Tool, ToolChoice
from switchyard.core.tool_config import CodeInterpreterConfig, FileSearchConfig, ImageGenerationConfig, McpToolConfig
from switchyard.core.tool_items import BuiltinItem
from switchyard.retrieval.service import Retrieval
from switchyard.tools.code_runner import CodeRunner
from switchyard.tools.image_maker import ImageMaker
from switchyard.tools.mcp import McpClient


@dataclass(slots=True)
class BuiltinConfigs:
    """The built-in tools a request turned on."""

    file_search: FileSearchConfig | None = None
    mcp: list[McpToolConfig] = field(default_factory=list)
    code_interpreter: CodeInterpreterConfig | None = None
    image_generation: ImageGenerationConfig | None = None


@dataclass(slots=True)
class ToolServices:
    """What the tools run on; a tool whose service is missing does nothing."""

    retrieval: Retrieval | None = None
    mcp: McpClient | None = None
    images: ImageMaker | None = None
    code: CodeRunner | None = None


class RunScope(Protocol):
    """What a tool sees of the run it serves."""

    @property
    def owner_id(self) -> str: ...

    @property
    def configs(self) -> BuiltinConfigs: ...

    @property
    def tool_choice(self) -> ToolChoice | None: ...

    @property
    def function_names(self) -> set[str]: ...

    @property
    def streamed(self) -> bool:
        """The client sees the run as it goes (a streamed or background response)."""
        ...

    @property
    def seen(self) -> list[Item]:
        """The run's context before it starts: history, then the run's own input."""
        ...

    @property
    def inputs(self) -> list[Item]: ...

    def new_id(self, prefix: str) -> str: ...

    def count_tool_call(self) -> None:
        """One more call against the request's ``max_tool_calls``."""
        ...

    async def emit(self, event: Event) -> None:
        """Show an event to the client (``ItemStart`` / ``ItemDone`` of the tool's items)."""
        ...


@dataclass(slots=True)
class ToolStep:
    """What running calls gave: ``items`` for the model's next turn, and ``wait`` when
    the run must stop for the client (an approval request) once this turn's calls ran."""

    items: list[Item] = field(default_factory=list)
    wait: bool = False


class BuiltinTool(Protocol):
    """One built-in tool within one run."""

    async def prepare(self) -> list[Item]:
        """Before the first turn; items for the model (e.g. calls the client approved)."""
        ...

    def offers(self) -> list[Tool]:
        """The functions the model may call in the next turn."""
        ...

    def handles(self, name: str) -> bool: ...

    async def run(self, call: FunctionCall) -> ToolStep: ...


Opener = Callable[[RunScope, ToolServices], Awaitable[BuiltinTool | None]]
Replay = Callable[[BuiltinItem], list[Item]]


@dataclass(frozen=True, slots=True)
class ToolKind:
    """``open`` gives None when the request does not use the tool (or there is nothing
    to run it on); ``replays`` maps each item type the tool makes to how a past item
    of that type reads to a model."""

    name: str
    open: Opener | None
    replays: dict[type, Replay]


def text_argument(call: FunctionCall, name: str) -> str:
    """The tool call's one text argument ``name``; a model that sent the bare text instead
    of a JSON object gets that text."""
    try:
        args: Any = orjson.loads(call.arguments or "{}")
    except orjson.JSONDecodeError:
        return call.arguments or ""
    value = args.get(name) if isinstance(args, dict) else None
    return value if isinstance(value, str) else ""
