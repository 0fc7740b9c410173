"""Canonical items to the model's own chat template.

System and developer messages merge into one leading system message; an assistant
message and the function calls after it become one assistant turn with ``tool_calls``;
function call outputs become ``tool`` messages; reasoning items are dropped (this
model does not read its own reasoning back); images and files are refused.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from switchyard.core.errors import invalid, unsupported
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Message,
    Part,
    Reasoning,
    RefusalPart,
    TextPart,
)
from switchyard.core.request import Request

TOOL_CALL_PREFILL = "<tool_call>\n"


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """The request's items as OpenAI-style chat messages for a chat template. When the
    request offers no tools, past tool exchanges are written as plain text: rendered
    as tool calls, they lead a small model to keep emitting calls instead of answering."""
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    as_text = not chat_tools(request)
    names = {item.call_id: item.name for item in request.items if isinstance(item, FunctionCall)}
    for i, item in enumerate(request.items):
        where = f"messages[{i}]"
        if isinstance(item, Message):
            text = _text(item.content, f"{where}.content")
            if item.role in ("system", "developer"):
                system.append(text)
            elif item.role == "assistant":
                messages.append({"role": "assistant", "content": text})
            else:
                messages.append({"role": "user", "content": text})
        elif isinstance(item, FunctionCall) and as_text:
            messages.append({"role": "assistant", "content": f"{item.name}({item.arguments})"})
        elif isinstance(item, FunctionCallOutput) and as_text:
            content = _text(item.output, f"{where}.output")
            name = names.get(item.call_id, "the tool")
            messages.append({"role": "user", "content": f"Result of {name}:\n{content}"})
        elif isinstance(item, FunctionCall):
            last = messages[-1] if messages else None
            if last is None or last["role"] != "assistant":
                last = {"role": "assistant", "content": ""}
                messages.append(last)
            last.setdefault("tool_calls", []).append(_tool_call(item))
        elif isinstance(item, FunctionCallOutput):
            content = _text(item.output, f"{where}.output")
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": content})
        elif isinstance(item, Reasoning):
            continue
    if system:
        messages.insert(0, {"role": "system", "content": "\n\n".join(system)})
    return messages


def chat_tools(request: Request) -> list[dict[str, Any]]:
    if not request.tools or (request.tool_choice and request.tool_choice.mode == "none"):
        return []
    tools = []
    for tool in request.tools:
        function: dict[str, Any] = {"name": tool.name}
        if tool.description:
            function["description"] = tool.description
        function["parameters"] = tool.parameters
        tools.append({"type": "function", "function": function})
    return tools


def raw_prompt(request: Request) -> str:
    """Legacy completions: the prompt is the user text, verbatim."""
    parts = []
    for i, item in enumerate(request.items):
        if isinstance(item, Message):
            parts.append(_text(item.content, f"messages[{i}].content"))
    return "".join(parts)


def render(
    template: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    bos_token: str = "",
    eos_token: str = "",
) -> str:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template).render(
        messages=messages,
        tools=tools or None,
        bos_token=bos_token,
        eos_token=eos_token,
        add_generation_prompt=True,
    )


def _tool_call(call: FunctionCall) -> dict[str, Any]:
    try:
        arguments: Any = json.loads(call.arguments) if call.arguments else {}
    except json.JSONDecodeError:
        arguments = call.arguments
    return {
        "id": call.call_id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def _text(parts: list[Part], where: str) -> str:
    out = []
    for j, part in enumerate(parts):
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, RefusalPart):
            out.append(part.refusal)
        elif isinstance(part, ImagePart):
            raise unsupported(part.path or f"{where}[{j}]", "this model cannot read images")
        elif isinstance(part, FilePart):
            raise unsupported(part.path or f"{where}[{j}]", "this model cannot read files")
    return "".join(out)


def _tojson(
    value: Any,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
    ensure_ascii: bool = False,
) -> str:
    return json.dumps(value, indent=indent, separators=separators, sort_keys=sort_keys, ensure_ascii=ensure_ascii)


def _raise(message: str) -> None:
    raise invalid(f"the chat template refused the conversation: {message}", "messages")
