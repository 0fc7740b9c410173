"""Names of client tools that are not plain top-level functions.

A canonical ``Tool`` is always a function with a JSON-Schema ``parameters``. Two
Responses tool shapes do not fit that and are translated here, the same way in both
directions:

- ``custom`` (free-form input, optionally a Lark/regex grammar) becomes a function with
  one string argument ``input``; a call to it goes back to the client as a
  ``custom_tool_call`` whose ``input`` is that string.
- the functions (and custom tools) of a ``namespace`` become top-level tools named
  ``flat_name(namespace, name)``; a call goes back with ``name`` and ``namespace`` apart.

``tool_kinds(tools_wire)`` rebuilds the mapping from the echoed ``tools`` of a
response, so the stream encoder can learn it from ``response.created``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

MAX_NAME = 64  # the tightest upstream limit (Anthropic, OpenAI chat)
CUSTOM_ARGUMENT = "input"


@dataclass(frozen=True, slots=True)
class ToolKind:
    kind: Literal["function", "custom"]
    name: str
    namespace: str | None = None


def flat_name(namespace: str | None, name: str) -> str:
    """``crm`` + ``lookup`` → ``crm__lookup`` (``mcp__srv__`` + ``x`` → ``mcp__srv__x``);
    names over 64 characters keep a prefix and a hash of the whole."""
    if not namespace:
        return name
    joined = f"{namespace}{name}" if namespace.endswith("_") else f"{namespace}__{name}"
    if len(joined) <= MAX_NAME:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()[:10]
    return f"{joined[:MAX_NAME - 11]}_{digest}"


def custom_parameters(description: str | None, fmt: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON Schema of a custom tool seen as a function: one string ``input``."""
    text = "The raw input of this tool: plain text, not JSON."
    if isinstance(fmt, dict) and fmt.get("type") == "grammar" and isinstance(fmt.get("definition"), str):
        syntax = fmt.get("syntax") or "lark"
        text += f" It must match this {syntax} grammar:\n{fmt['definition']}"
    return {
        "type": "object",
        "properties": {CUSTOM_ARGUMENT: {"type": "string", "description": text}},
        "required": [CUSTOM_ARGUMENT],
        "additionalProperties": False,
    }


def custom_arguments(text: str) -> str:
    """A custom tool's input as the arguments of its function form."""
    return json.dumps({CUSTOM_ARGUMENT: text}, ensure_ascii=False)


def custom_input(arguments: str) -> str:
    """The function form's arguments back to the free-form input (a model that
    answered with the bare text instead of JSON gets its text through as is)."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(parsed, dict) and isinstance(parsed.get(CUSTOM_ARGUMENT), str):
        return str(parsed[CUSTOM_ARGUMENT])
    if isinstance(parsed, str):
        return parsed
    return arguments


def tool_kinds(tools_wire: list[dict[str, Any]]) -> dict[str, ToolKind]:
    """Canonical name → what the client calls it, for every custom or namespaced tool."""
    out: dict[str, ToolKind] = {}
    for tool in tools_wire:
        if not isinstance(tool, dict):
            continue
        if tool.get("type") == "custom" and isinstance(tool.get("name"), str):
            out[tool["name"]] = ToolKind("custom", tool["name"])
        elif tool.get("type") == "namespace" and isinstance(tool.get("name"), str):
            for inner in tool.get("tools") or []:
                if isinstance(inner, dict) and isinstance(inner.get("name"), str):
                    kind: Literal["function", "custom"] = "custom" if inner.get("type") == "custom" else "function"
                    out[flat_name(tool["name"], inner["name"])] = ToolKind(kind, inner["name"], tool["name"])
    return out
