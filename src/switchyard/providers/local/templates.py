"""What a GGUF's own chat template does with tools, and what to do when it does nothing.

Families put tool calls in different wrappers (see ``toolparse``). A template that
never mentions ``tools`` gets the tools described in its system message instead,
with Hermes-style ``<tool_call>`` tags the parser reads, and past calls and results
written into the conversation as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

HERMES_PREFILL = "<tool_call>\n"


@dataclass(frozen=True, slots=True)
class ToolStyle:
    native: bool  # the template renders ``tools`` and ``tool_calls`` itself
    prefill: str  # what a forced tool call starts with


# Marker in the template -> how its family opens a call. First match wins.
_STYLES: tuple[tuple[str, ToolStyle], ...] = (
    ("<tool_call>", ToolStyle(True, HERMES_PREFILL)),
    ("[TOOL_CALLS]", ToolStyle(True, "[TOOL_CALLS]")),
    ("<|python_tag|>", ToolStyle(True, "")),
    ('"parameters"', ToolStyle(True, "")),
)
_NO_TOOLS = ToolStyle(False, HERMES_PREFILL)
_GENERIC = ToolStyle(True, HERMES_PREFILL)


def tool_style(template: str) -> ToolStyle:
    if "tools" not in template:
        return _NO_TOOLS
    for marker, style in _STYLES:
        if marker in template:
            return style
    return _GENERIC


def tools_instruction(tools: list[dict[str, Any]]) -> str:
    """The tools described for a model whose template has no place for them."""
    listing = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
    return (
        "# Tools\n\nYou can call functions to help with the user's request. Their signatures, "
        f"one JSON object per line:\n<tools>\n{listing}\n</tools>\n\n"
        "To call a function, answer with a JSON object holding its name and arguments inside "
        "<tool_call></tool_call> tags, like this:\n<tool_call>\n"
        '{"name": "function_name", "arguments": {"argument": "value"}}\n</tool_call>'
    )


def call_as_text(name: str, arguments: Any) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"


def result_as_text(content: str) -> str:
    return f"<tool_response>\n{content}\n</tool_response>"
