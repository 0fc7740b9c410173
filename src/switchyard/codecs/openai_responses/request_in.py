"""A ``POST /v1/responses`` body to a ``ResponsesCall``; every bad field is a 400 naming it."""

from __future__ import annotations

import logging
import re
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_chat.fields import (
    arr,
    no_nul,
    obj,
    one_of,
    opt_bool,
    opt_int,
    opt_num,
    opt_str,
    req_str,
    wrong_type,
)
from switchyard.codecs.openai_chat.request_in import OPENAI_OPTIONS, openai_options
from switchyard.codecs.openai_responses.call import NewItemId, ResponsesCall, random_item_id
from switchyard.codecs.openai_responses.input_in import decode_input
from switchyard.codecs.openai_responses.tools_in import Tools, add_tool, decode_tool_choice, decode_tools
from switchyard.core.errors import SwitchyardError, invalid, unsupported
from switchyard.core.request import ReasoningConfig, ResponseFormat

log = logging.getLogger(__name__)

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
SUMMARIES = ("auto", "concise", "detailed")
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast", "ultrafast")
INCLUDABLE = (
    "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
    "message.input_image.image_url", "computer_call_output.output.image_url",
    "code_interpreter_call.outputs", "reasoning.encrypted_content", "message.output_text.logprobs",
)
_FORMAT_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_MAPPED = frozenset({
    "model", "input", "instructions", "previous_response_id", "conversation", "store", "background",
    "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "max_tool_calls", "text",
    "reasoning", "max_output_tokens", "temperature", "top_p", "top_logprobs", "truncation", "include",
    "metadata", "user", "safety_identifier", "prompt_cache_key", "service_tier", "prompt",
    "presence_penalty", "frequency_penalty", "context_management", *OPENAI_OPTIONS,
})


def decode_request(body: object, *, new_item_id: NewItemId = random_item_id) -> ResponsesCall:
    """Validate a Responses create body. Input items get ids from ``new_item_id``
    (called with a prefix such as ``"msg_"``) where the client gave none."""
    body = obj(body, "body")
    for key in body.keys() - _MAPPED:
        log.debug("responses: ignoring field %r", key)
    if body.get("prompt") is not None:
        raise unsupported("prompt", "reusable prompts are not available on this server")
    previous = no_nul(opt_str(body, "previous_response_id"), "previous_response_id")
    conversation = _conversation(body.get("conversation"))
    if previous is not None and conversation is not None:
        raise invalid("Mutually exclusive parameters: 'previous_response_id' and 'conversation' cannot be "
                      "used together.", "conversation", "mutually_exclusive_parameters")
    store = opt_bool(body, "store")
    background = bool(opt_bool(body, "background"))
    if background and store is False:
        raise invalid("Background mode requires 'store' to be true.", "background")
    stream = bool(opt_bool(body, "stream"))
    input_items = decode_input(body.get("input"), new_item_id)
    tools = decode_tools(body.get("tools"))
    _additional_tools(input_items, tools)
    tool_choice, tool_choice_wire = decode_tool_choice(body.get("tool_choice"), tools)
    text_format, text_wire = _text(body.get("text"))
    reasoning, reasoning_wire = _reasoning(body.get("reasoning"))
    tier = opt_str(body, "service_tier")
    safety = opt_str(body, "safety_identifier")
    if safety is not None and len(safety) > 64:
        raise invalid("Invalid 'safety_identifier': string too long. Expected a string with maximum "
                      "length 64.", "safety_identifier", "string_above_max_length")
    return ResponsesCall(
        model=req_str(body, "model"),
        input_items=input_items,
        instructions=opt_str(body, "instructions"),
        previous_response_id=previous,
        conversation=conversation,
        store=store is not False,
        background=background,
        stream=stream,
        stream_include_obfuscation=_obfuscation(body, stream),
        tools_wire=tools.wire,
        function_tools=tools.functions,
        mcp_tools=tools.mcp,
        file_search=tools.file_search,
        image_generation=tools.image_generation,
        code_interpreter=tools.code_interpreter,
        tool_choice=tool_choice,
        tool_choice_wire=tool_choice_wire,
        parallel_tool_calls=opt_bool(body, "parallel_tool_calls") is not False,
        max_tool_calls=opt_int(body, "max_tool_calls", lo=1),
        text_format=text_format,
        text_wire=text_wire,
        reasoning=reasoning,
        reasoning_wire=reasoning_wire,
        max_output_tokens=opt_int(body, "max_output_tokens", lo=16),
        temperature=opt_num(body, "temperature", lo=0, hi=2),
        top_p=opt_num(body, "top_p", lo=0, hi=1),
        top_logprobs=opt_int(body, "top_logprobs", lo=0, hi=20),
        presence_penalty=opt_num(body, "presence_penalty", lo=-2, hi=2),
        frequency_penalty=opt_num(body, "frequency_penalty", lo=-2, hi=2),
        truncation=one_of(opt_str(body, "truncation") or "disabled", ("auto", "disabled"),  # type: ignore[arg-type]
                          "truncation"),
        include=_include(body.get("include")),
        metadata=_metadata(body.get("metadata")),
        user=opt_str(body, "user"),
        safety_identifier=safety,
        prompt_cache_key=opt_str(body, "prompt_cache_key"),
        service_tier=one_of(tier, SERVICE_TIERS, "service_tier") if tier is not None else None,
        hosted_tools=[wire for _, wire in tools.hosted],
        hosted_tools_param=tools.hosted[0][0] if tools.hosted else "tools",
        openai_options=openai_options(body, {}),
        unavailable={"context_management": body["context_management"]}
        if body.get("context_management") is not None else {},
    )


def _additional_tools(items: list[dict[str, Any]], tools: Tools) -> None:
    """Tools given by ``additional_tools`` input items join the request's tools (a name
    given twice keeps its first definition)."""
    for i, item in enumerate(items):
        if item["type"] != "additional_tools":
            continue
        for j, tool in enumerate(item["tools"]):
            try:
                add_tool(tools, tool, f"input[{i}].tools[{j}]")
            except SwitchyardError as error:
                if "duplicate" not in error.message:
                    raise
                log.debug("responses: additional tool already defined: %s", error.message)


def _conversation(raw: object) -> str | None:
    if raw is None or isinstance(raw, str):
        return no_nul(raw, "conversation")
    return no_nul(req_str(obj(raw, "conversation"), "id", "conversation"), "conversation.id")


def _obfuscation(body: dict[str, Any], stream: bool) -> bool:
    raw = body.get("stream_options")
    if raw is None:
        return True
    if not stream:
        raise invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                      "stream_options")
    return opt_bool(obj(raw, "stream_options"), "include_obfuscation", "stream_options") is not False


def _text(raw: object) -> tuple[ResponseFormat | None, dict[str, Any]]:
    if raw is None:
        return None, {"format": {"type": "text"}, "verbosity": "medium"}
    text = obj(raw, "text")
    verbosity = opt_str(text, "verbosity", "text") or "medium"
    one_of(verbosity, ("low", "medium", "high"), "text.verbosity")
    fmt_raw = text.get("format")
    if fmt_raw is None:
        return None, {"format": {"type": "text"}, "verbosity": verbosity}
    path = "text.format"
    fmt = obj(fmt_raw, path)
    kind = one_of(req_str(fmt, "type", path), ("text", "json_object", "json_schema"), f"{path}.type")
    if kind != "json_schema":
        return ResponseFormat(type=kind), {"format": {"type": kind}, "verbosity": verbosity}  # type: ignore[arg-type]
    name = req_str(fmt, "name", path)
    if not _FORMAT_NAME.match(name):
        raise invalid(f"Invalid '{path}.name': expected letters, digits, '_' or '-', at most 64 characters.",
                      f"{path}.name", "invalid_value")
    schema = obj(fmt.get("schema"), f"{path}.schema")
    description = opt_str(fmt, "description", path)
    strict = bool(opt_bool(fmt, "strict", path))
    wire = {"type": "json_schema", "name": name, "schema": schema, "strict": strict}
    if description is not None:
        wire["description"] = description
    canonical = ResponseFormat(type="json_schema", schema=schema, name=name, strict=strict, description=description)
    return canonical, {"format": wire, "verbosity": verbosity}


def _reasoning(raw: object) -> tuple[ReasoningConfig | None, dict[str, Any]]:
    if raw is None:
        return None, {"effort": None, "summary": None}
    reasoning = obj(raw, "reasoning")
    effort = opt_str(reasoning, "effort", "reasoning")
    if effort is not None:
        one_of(effort, EFFORTS, "reasoning.effort")
    summary = opt_str(reasoning, "summary", "reasoning")
    if summary is not None:
        one_of(summary, SUMMARIES, "reasoning.summary")
    legacy = opt_str(reasoning, "generate_summary", "reasoning")
    if legacy is not None:
        one_of(legacy, SUMMARIES, "reasoning.generate_summary")
        summary = summary or legacy
    config = ReasoningConfig(enabled=effort != "none", effort=effort, summary=summary)
    return config, {"effort": effort, "summary": summary}


def _include(raw: object) -> list[str]:
    if raw is None:
        return []
    values = arr(raw, "include")
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise wrong_type(f"include[{i}]", "a string", value)
        one_of(value, INCLUDABLE, f"include[{i}]")
    return list(values)


def _metadata(raw: object) -> dict[str, str]:
    return decode_metadata(raw) or {}
