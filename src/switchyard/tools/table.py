"""The built-in tools, in the order their functions are offered to a model."""

from __future__ import annotations

from typing import cast

from switchyard.core.items import Item
from switchyard.core.tool_items import BuiltinItem
from switchyard.tools.builtin import Replay, ToolKind
from switchyard.tools.code_interpreter import CODE_INTERPRETER
from switchyard.tools.file_search import FILE_SEARCH
from switchyard.tools.image_generation import IMAGE_GENERATION
from switchyard.tools.mcp_tool import MCP

TOOLS: tuple[ToolKind, ...] = (MCP, FILE_SEARCH, IMAGE_GENERATION, CODE_INTERPRETER)

_REPLAYS: dict[type, Replay] = {kind: replay for tool in TOOLS for kind, replay in tool.replays.items()}


def for_model(items: list[Item]) -> list[Item]:
    """A context as a model reads it: each built-in tool item as its tool replays it
    (a call and its answer, or nothing); everything else (vendor items included, which
    a provider of another vendor leaves out) as it is."""
    out: list[Item] = []
    for item in items:
        replay = _REPLAYS.get(type(item))
        if replay is not None:
            out.extend(replay(cast(BuiltinItem, item)))
        else:
            out.append(item)
    return out

