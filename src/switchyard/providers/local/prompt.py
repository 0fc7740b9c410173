"""Canonical items to the model's own chat template.

System and developer messages merge into one leading system message; an assistant
message and the function calls after it become one assistant turn with ``tool_calls``;
function call outputs become ``tool`` messages; reasoning items are dropped (this
model does not read its own reasoning back); images and files are refused.

``render_segments`` keeps every content apart from the template's markup, so that only
the markup may become special tokens (see docs/local-models.md).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
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
from switchyard.providers.local.templates import call_as_text, result_as_text, tools_instruction


def chat_messages(request: Request, *, native_tools: bool = True) -> list[dict[str, Any]]:
    """The request's items as OpenAI-style chat messages for a chat template. When the
    request offers no tools, past tool exchanges are written as plain text: rendered
    as tool calls, they lead a small model to keep emitting calls instead of answering.
    Without ``native_tools`` (a template that has no place for tools), the tools are
    described in the system message and past calls and results written as tagged text."""
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    tools = chat_tools(request)
    as_text = not tools
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
        elif isinstance(item, FunctionCall | FunctionCallOutput):
            _tool_item(item, messages, where, names, as_text=as_text, native=native_tools)
        elif isinstance(item, Reasoning):
            continue
    if tools and not native_tools:
        system.append(tools_instruction(tools))
    for m in messages:
        m.pop("tool_results", None)
    if system:
        messages.insert(0, {"role": "system", "content": "\n\n".join(system)})
    return messages


def _tool_item(item: FunctionCall | FunctionCallOutput, messages: list[dict[str, Any]], where: str,
               names: dict[str, str], *, as_text: bool, native: bool) -> None:
    if isinstance(item, FunctionCall):
        if as_text:
            messages.append({"role": "assistant", "content": f"{item.name}({item.arguments})"})
        elif not native:
            call = _tool_call(item)["function"]
            turn = _assistant(messages)
            turn["content"] += ("\n" if turn["content"] else "") + call_as_text(call["name"], call["arguments"])
        else:
            _assistant(messages).setdefault("tool_calls", []).append(_tool_call(item))
        return
    content = _text(item.output, f"{where}.output")
    if as_text:
        messages.append({"role": "user", "content": f"Result of {names.get(item.call_id, 'the tool')}:\n{content}"})
    elif not native:
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "user" and last.get("tool_results"):
            last["content"] += "\n" + result_as_text(content)
        else:
            messages.append({"role": "user", "content": result_as_text(content), "tool_results": True})
    else:
        messages.append({"role": "tool", "tool_call_id": item.call_id, "content": content})


def _assistant(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The assistant turn a function call joins (opened if the last turn is not one)."""
    last = messages[-1] if messages else None
    if last is None or last["role"] != "assistant":
        last = {"role": "assistant", "content": ""}
        messages.append(last)
    return last


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


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a rendered prompt. ``data`` pieces (message contents, tool
    arguments and results, anything a template passed through ``tojson``) are
    tokenised without special tokens; the rest is the template's own markup."""

    text: str
    data: bool


def render(
    template: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    bos_token: str = "",
    eos_token: str = "",
) -> str:
    return "".join(s.text for s in render_segments(template, messages, tools, bos_token=bos_token,
                                                   eos_token=eos_token))


def render_segments(
    template: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    bos_token: str = "",
    eos_token: str = "",
) -> list[Segment]:
    """Render with a stand-in for every content string, then split the text on them:
    whatever a template does, the client's text never becomes markup."""
    contents = _Contents()
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = contents.tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    text = env.from_string(template).render(
        messages=[contents.message(m) for m in messages],
        tools=contents.leaves(tools) or None,
        bos_token=bos_token,
        eos_token=eos_token,
        add_generation_prompt=True,
    )
    return contents.split(text)


class _Contents:
    """Stand-ins (``SY<nonce>N<i>E``) for the strings a template renders as data."""

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.values: list[str] = []
        self.pattern = re.compile(f"SY{self.nonce}N(\\d+)E")

    def mark(self, value: str) -> _Marked:
        self.values.append(value)
        return _Marked(f"SY{self.nonce}N{len(self.values) - 1}E", self, value)

    def message(self, message: dict[str, Any]) -> dict[str, Any]:
        out = dict(message)
        if isinstance(out.get("content"), str):
            out["content"] = self.mark(out["content"])
        if out.get("tool_calls"):
            out["tool_calls"] = [self._call(c) for c in out["tool_calls"]]
        return out

    def leaves(self, value: Any) -> Any:
        """``value`` with every string in it (not the keys) marked as data."""
        if isinstance(value, str):
            return self.mark(value)
        if isinstance(value, dict):
            return {k: self.leaves(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.leaves(v) for v in value]
        return value

    def _call(self, call: dict[str, Any]) -> dict[str, Any]:
        function = dict(call["function"])
        if isinstance(function.get("arguments"), str):
            function["arguments"] = self.mark(function["arguments"])
        return {**call, "function": function}

    def tojson(
        self,
        value: Any,
        indent: int | None = None,
        separators: tuple[str, str] | None = None,
        sort_keys: bool = False,
        ensure_ascii: bool = False,
    ) -> _Marked:
        text = json.dumps(value, indent=indent, separators=separators, sort_keys=sort_keys,
                          ensure_ascii=ensure_ascii)
        inner = self.pattern.sub(
            lambda m: json.dumps(self.values[int(m.group(1))], ensure_ascii=ensure_ascii)[1:-1], text)
        return self.mark(inner)

    def split(self, text: str) -> list[Segment]:
        out: list[Segment] = []
        at = 0
        for m in self.pattern.finditer(text):
            if m.start() > at:
                out.append(Segment(text[at : m.start()], False))
            out.append(Segment(self.pattern.sub(lambda n: self.values[int(n.group(1))],
                                                self.values[int(m.group(1))]), True))
            at = m.end()
        if at < len(text):
            out.append(Segment(text[at:], False))
        return [s for s in out if s.text]


class _Marked(str):
    """A content string's stand-in; string operations a template applies to it
    (``trim``, ``split``, ``in``, ``startswith``...) act on the real text."""

    _contents: _Contents
    _value: str

    def __new__(cls, marker: str, contents: _Contents, value: str) -> _Marked:
        obj = super().__new__(cls, marker)
        obj._contents = contents
        obj._value = value
        return obj

    def _new(self, value: str) -> _Marked:
        return self._contents.mark(value)

    def strip(self, chars: str | None = None) -> _Marked:  # type: ignore[override]
        return self._new(self._value.strip(chars))

    def lstrip(self, chars: str | None = None) -> _Marked:  # type: ignore[override]
        return self._new(self._value.lstrip(chars))

    def rstrip(self, chars: str | None = None) -> _Marked:  # type: ignore[override]
        return self._new(self._value.rstrip(chars))

    def split(self, sep: str | None = None, maxsplit: int = -1) -> list[_Marked]:  # type: ignore[override]
        return [self._new(p) for p in self._value.split(sep, maxsplit)]

    def rsplit(self, sep: str | None = None, maxsplit: int = -1) -> list[_Marked]:  # type: ignore[override]
        return [self._new(p) for p in self._value.rsplit(sep, maxsplit)]

    def replace(self, old: str, new: str, count: int = -1) -> _Marked:  # type: ignore[override]
        return self._new(self._value.replace(old, new, count))

    def startswith(self, prefix: Any, *args: Any) -> bool:
        return self._value.startswith(prefix, *args)

    def endswith(self, suffix: Any, *args: Any) -> bool:
        return self._value.endswith(suffix, *args)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item in self._value

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return self._value == (other._value if isinstance(other, _Marked) else other)

    def __hash__(self) -> int:
        return hash(self._value)


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


def _raise(message: str) -> None:
    raise invalid(f"the chat template refused the conversation: {message}", "messages")
