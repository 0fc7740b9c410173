"""The bodies of ``POST /threads/{id}/runs``, ``/threads/runs``, ``/runs/{id}`` (modify)
and ``/runs/{id}/submit_tool_outputs``, validated field by field (a 400 naming the
field), and a run's wire settings read back as canonical ones for the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_assistants.assistant_in import REASONING_EFFORTS, decode_response_format
from switchyard.codecs.openai_assistants.message_in import MessageIn, decode_message
from switchyard.codecs.openai_assistants.thread_in import ThreadIn, decode_thread
from switchyard.codecs.openai_assistants.tools_in import decode_tools
from switchyard.codecs.openai_chat.fields import (
    arr,
    missing,
    obj,
    one_of,
    opt_bool,
    opt_int,
    opt_num,
    opt_str,
    req_str,
)
from switchyard.core.errors import invalid
from switchyard.core.request import ReasoningConfig, ResponseFormat, Tool, ToolChoice

TOOL_TYPES = ("function", "file_search", "code_interpreter")
OVERRIDES = ("model", "instructions", "tools", "temperature", "top_p", "max_prompt_tokens", "max_completion_tokens",
             "truncation_strategy", "tool_choice", "parallel_tool_calls", "response_format")
MIN_TOKEN_LIMIT = 256  # OpenAI refuses smaller max_prompt_tokens / max_completion_tokens
CREATE_FIELDS = frozenset({"assistant_id", *OVERRIDES, "additional_instructions", "additional_messages", "metadata",
                           "stream", "reasoning_effort"})
CREATE_AND_RUN_FIELDS = frozenset({"assistant_id", *OVERRIDES, "metadata", "stream", "thread", "tool_resources"})


@dataclass(slots=True)
class RunParams:
    """What a create call asked for; ``overrides`` holds the wire values given (validated)."""

    assistant_id: str
    overrides: dict[str, Any] = field(default_factory=dict)
    additional_instructions: str | None = None
    additional_messages: list[MessageIn] = field(default_factory=list)
    metadata: dict[str, str] | None = None
    stream: bool = False
    thread: ThreadIn | None = None  # create-and-run: the thread to create


def decode_create(raw: object, *, and_thread: bool = False) -> RunParams:
    body = obj(raw, "body")
    allowed = CREATE_AND_RUN_FIELDS if and_thread else CREATE_FIELDS
    for key in body:
        if key not in allowed:
            raise invalid(f"Unrecognized request argument supplied: {key}", key, "unknown_parameter")
    params = RunParams(assistant_id=req_str(body, "assistant_id"), stream=bool(opt_bool(body, "stream")),
                       metadata=decode_metadata(body.get("metadata")))
    params.overrides = decode_overrides(body)
    params.additional_instructions = opt_str(body, "additional_instructions")
    if body.get("additional_messages") is not None:
        params.additional_messages = [decode_message(m, f"additional_messages[{n}]")
                                      for n, m in enumerate(arr(body["additional_messages"], "additional_messages"))]
    if and_thread:
        thread = dict(obj(body["thread"], "thread")) if body.get("thread") is not None else {}
        if body.get("tool_resources") is not None and thread.get("tool_resources") is None:
            thread["tool_resources"] = body["tool_resources"]  # the run's resources go on its new thread
        params.thread = decode_thread(thread, create=True, path="thread")
    return params


def decode_overrides(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if body.get("model") is not None:
        out["model"] = req_str(body, "model")
    if body.get("instructions") is not None:
        out["instructions"] = req_str(body, "instructions")
    if body.get("tools") is not None:
        out["tools"] = decode_tools(body["tools"])
    for key, hi in (("temperature", 2.0), ("top_p", 1.0)):
        if body.get(key) is not None:
            out[key] = opt_num(body, key, lo=0.0, hi=hi)
    for key in ("max_prompt_tokens", "max_completion_tokens"):
        if body.get(key) is not None:
            out[key] = opt_int(body, key, lo=MIN_TOKEN_LIMIT)
    if body.get("truncation_strategy") is not None:
        out["truncation_strategy"] = _truncation(body["truncation_strategy"])
    if body.get("parallel_tool_calls") is not None:
        out["parallel_tool_calls"] = opt_bool(body, "parallel_tool_calls")
    if body.get("response_format") is not None:
        out["response_format"] = decode_response_format(body["response_format"])
    if body.get("tool_choice") is not None:
        out["tool_choice"] = _tool_choice(body["tool_choice"])
    if body.get("reasoning_effort") is not None:
        out["reasoning_effort"] = one_of(req_str(body, "reasoning_effort"), REASONING_EFFORTS, "reasoning_effort")
    return out


def _truncation(raw: object) -> dict[str, Any]:
    path = "truncation_strategy"
    value = obj(raw, path)
    kind = one_of(req_str(value, "type", path), ("auto", "last_messages"), f"{path}.type")
    last = opt_int(value, "last_messages", path, lo=1)
    if kind == "last_messages" and last is None:
        raise missing(f"{path}.last_messages")
    return {"type": kind, "last_messages": last}


def _tool_choice(raw: object) -> str | dict[str, Any]:
    path = "tool_choice"
    if isinstance(raw, str):
        return one_of(raw, ("none", "auto", "required"), path)
    value = obj(raw, path)
    kind = one_of(req_str(value, "type", path), TOOL_TYPES, f"{path}.type")
    if kind != "function":
        return {"type": kind}
    fn = obj(value.get("function"), f"{path}.function")
    return {"type": "function", "function": {"name": req_str(fn, "name", f"{path}.function")}}


def decode_modify(raw: object) -> dict[str, str] | None:
    body = obj(raw, "body")
    for key in body:
        if key != "metadata":
            raise invalid(f"Unrecognized request argument supplied: {key}", key, "unknown_parameter")
    return decode_metadata(body.get("metadata"))


def decode_tool_outputs(raw: object) -> tuple[dict[str, str], bool]:
    """``({tool_call_id: output}, stream)``."""
    body = obj(raw, "body")
    outputs: dict[str, str] = {}
    items = body.get("tool_outputs")
    if items is None:
        raise missing("tool_outputs")
    for n, item in enumerate(arr(items, "tool_outputs")):
        where = f"tool_outputs[{n}]"
        item = obj(item, where)
        call_id = req_str(item, "tool_call_id", where)
        outputs[call_id] = opt_str(item, "output", where) or ""
    return outputs, bool(opt_bool(body, "stream"))


# -- a run's wire settings, as the model sees them ------------------------------------------


def function_tools(tools: list[dict[str, Any]]) -> list[Tool]:
    out = []
    for tool in tools:
        if tool.get("type") == "function":
            fn = tool["function"]
            out.append(Tool(fn["name"], fn.get("description"),
                            fn.get("parameters") or {"type": "object", "properties": {}}, bool(fn.get("strict"))))
    return out


def tool_choice(wire: str | dict[str, Any] | None) -> ToolChoice | None:
    if wire is None or wire == "auto":
        return None
    if isinstance(wire, str):
        return ToolChoice("none" if wire == "none" else "required")
    if wire.get("type") == "function":
        return ToolChoice("tool", wire["function"]["name"])
    return ToolChoice("tool", wire["type"])  # a built-in tool's function is named as its type


def reasoning(effort: str | None) -> ReasoningConfig | None:
    return None if effort is None else ReasoningConfig(enabled=effort != "none", effort=effort)


def response_format(wire: str | dict[str, Any] | None) -> ResponseFormat | None:
    if not isinstance(wire, dict) or wire.get("type") == "text":
        return None
    if wire["type"] == "json_object":
        return ResponseFormat("json_object")
    schema = wire["json_schema"]
    return ResponseFormat("json_schema", schema.get("schema"), schema.get("name"), bool(schema.get("strict")),
                          schema.get("description"))


def search_limit(tools: list[dict[str, Any]]) -> int | None:
    for tool in tools:
        if tool.get("type") == "file_search":
            return (tool.get("file_search") or {}).get("max_num_results")
    return None


def has_tool(tools: list[dict[str, Any]], kind: str) -> bool:
    return any(t.get("type") == kind for t in tools)


