"""A Chat Completions request body (client side) to a canonical ``Request``."""

from __future__ import annotations

import logging
import re
from typing import Any

from switchyard.codecs import metadata as shared_metadata  # a module: metadata.py imports this package
from switchyard.codecs.openai_chat.fields import (
    arr,
    obj,
    one_of,
    opt_bool,
    opt_int,
    opt_num,
    opt_str,
    req_str,
    wrong_type,
)
from switchyard.codecs.openai_chat.messages_in import decode_messages
from switchyard.core.errors import invalid, unsupported
from switchyard.core.request import ReasoningConfig, Request, ResponseFormat, Tool, ToolChoice, VendorTools

log = logging.getLogger(__name__)

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Accepted and deliberately not mapped to the canonical model.
OPENAI_OPTIONS = ("moderation", "prompt_cache_options", "prompt_cache_retention")
_MAPPED = frozenset({
    "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "functions",
    "function_call", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
    "n", "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty", "response_format",
    "reasoning_effort", "user", "safety_identifier", "metadata", "stream", "stream_options",
    "service_tier", "logit_bias", "modalities", "audio", "prediction", "verbosity",
    "prompt_cache_key", "web_search_options", "store", *OPENAI_OPTIONS,
})
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority")


def decode_request(body: object) -> Request:
    """Validate a ``POST /v1/chat/completions`` body. Raises ``SwitchyardError`` (400)
    naming the field for any bad input. ``stream_options.include_usage`` is not part of
    the ``Request``: read it with ``decode_stream_options``."""
    body = obj(body, "body")
    for key in body.keys() - _MAPPED:
        log.debug("chat completions: ignoring field %r", key)
    tools = _tools(body)
    names: dict[str, str] = {"max_output_tokens": "max_completion_tokens", "reasoning": "reasoning_effort"}
    max_tokens = opt_int(body, "max_completion_tokens", lo=1)
    if max_tokens is None:
        max_tokens = opt_int(body, "max_tokens", lo=1)
        names["max_output_tokens"] = "max_tokens"
    logprobs = bool(opt_bool(body, "logprobs"))
    top_logprobs = opt_int(body, "top_logprobs", lo=0, hi=20)
    if top_logprobs is not None and not logprobs:
        raise invalid("Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                      "'top_logprobs' is used.", "top_logprobs")
    user = opt_str(body, "safety_identifier") or opt_str(body, "user")
    if body.get("safety_identifier") is not None:
        names["user"] = "safety_identifier"
    decode_stream_options(body)
    audio = _audio(body, names)
    tier = opt_str(body, "service_tier")
    verbosity = opt_str(body, "verbosity")
    return Request(
        model=req_str(body, "model"),
        items=decode_messages(body.get("messages")),
        tools=tools,
        tool_choice=_tool_choice(body, tools),
        parallel_tool_calls=opt_bool(body, "parallel_tool_calls"),
        temperature=opt_num(body, "temperature", lo=0, hi=2),
        top_p=opt_num(body, "top_p", lo=0, hi=1),
        max_output_tokens=max_tokens,
        stop=_stop(body.get("stop")),
        seed=opt_int(body, "seed"),
        n=opt_int(body, "n", lo=1, hi=128) or 1,
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        presence_penalty=opt_num(body, "presence_penalty", lo=-2, hi=2),
        frequency_penalty=opt_num(body, "frequency_penalty", lo=-2, hi=2),
        response_format=_response_format(body.get("response_format")),
        reasoning=_reasoning(body),
        user=user,
        metadata=_metadata(body.get("metadata")),
        logit_bias=logit_bias(body.get("logit_bias")),
        service_tier=one_of(tier, SERVICE_TIERS, "service_tier") if tier is not None else None,
        prompt_cache_key=opt_str(body, "prompt_cache_key"),
        verbosity=one_of(verbosity, ("low", "medium", "high"), "verbosity") if verbosity is not None else None,
        prediction=obj(body["prediction"], "prediction") if body.get("prediction") is not None else None,
        audio=audio,
        vendor_tools=_web_search(body.get("web_search_options"), names),
        openai_options=openai_options(body, names),
        store=opt_bool(body, "store"),
        stream=bool(opt_bool(body, "stream")),
        param_names=names,
    )


def openai_options(body: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The OpenAI-only options present (``prompt_cache_retention: in_memory`` is the default)."""
    options = {k: body[k] for k in OPENAI_OPTIONS if body.get(k) is not None}
    if options.get("prompt_cache_retention") == "in_memory":
        del options["prompt_cache_retention"]
    if options:
        names["openai_options"] = next(iter(options))
    return options


def logit_bias(raw: object, path: str = "logit_bias") -> dict[str, float] | None:
    """Token id (as a string) to a bias in -100..100."""
    if raw is None:
        return None
    bias = obj(raw, path)
    for key in bias:
        if not key.isdigit():
            raise invalid(f"Invalid '{path}': '{key}' is not a token id.", path, "invalid_value")
        opt_num(bias, key, path, lo=-100, hi=100)
    return {k: float(v) for k, v in bias.items()}


def _audio(body: dict[str, Any], names: dict[str, str]) -> dict[str, Any] | None:
    modalities = body.get("modalities")
    if modalities is not None:
        for i, m in enumerate(arr(modalities, "modalities")):
            one_of(m if isinstance(m, str) else str(m), ("text", "audio"), f"modalities[{i}]")
    if body.get("audio") is not None:
        return obj(body["audio"], "audio")
    if modalities is not None and "audio" in modalities:
        names["audio"] = "modalities"
        return {}
    return None


def _web_search(raw: object, names: dict[str, str]) -> VendorTools | None:
    if raw is None:
        return None
    names["openai_tools"] = "web_search_options"
    return VendorTools("openai", [{"type": "web_search", **obj(raw, "web_search_options")}])


def decode_stream_options(body: object) -> bool:
    """Whether the client asked for a final usage chunk (``stream_options.include_usage``)."""
    body = obj(body, "body")
    raw = body.get("stream_options")
    if raw is None:
        return False
    if not opt_bool(body, "stream"):
        raise invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                      "stream_options")
    options = obj(raw, "stream_options")
    opt_bool(options, "include_obfuscation", "stream_options")
    return bool(opt_bool(options, "include_usage", "stream_options"))


def _tools(body: dict[str, Any]) -> list[Tool]:
    raw = body.get("tools")
    if raw is None and body.get("functions") is not None:
        return [_function(f, f"functions[{i}]") for i, f in enumerate(arr(body["functions"],
                                                                          "functions"))]
    if raw is None:
        return []
    tools = []
    for i, tool in enumerate(arr(raw, "tools")):
        path = f"tools[{i}]"
        tool = obj(tool, path)
        kind = req_str(tool, "type", path)
        if kind != "function":
            raise invalid(f"Invalid value for '{path}.type': '{kind}'. Only 'function' tools are "
                          "supported on this server.", f"{path}.type", "invalid_value")
        tools.append(_function(tool.get("function"), f"{path}.function"))
    seen: set[str] = set()
    for i, t in enumerate(tools):
        if t.name in seen:
            raise invalid(f"Invalid 'tools': duplicate function name '{t.name}'.",
                          f"tools[{i}].function.name")
        seen.add(t.name)
    return tools


def _function(raw: object, path: str) -> Tool:
    fn = obj(raw, path)
    name = req_str(fn, "name", path)
    if not _TOOL_NAME.match(name):
        raise invalid(f"Invalid '{path}.name': string does not match pattern. Expected a string "
                      "that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.", f"{path}.name",
                      "invalid_value")
    params = fn.get("parameters")
    return Tool(
        name=name,
        description=opt_str(fn, "description", path),
        parameters=obj(params, f"{path}.parameters") if params is not None
        else {"type": "object", "properties": {}},
        strict=bool(opt_bool(fn, "strict", path)),
    )


def _tool_choice(body: dict[str, Any], tools: list[Tool]) -> ToolChoice | None:
    key = "tool_choice" if body.get("tool_choice") is not None else "function_call"
    raw = body.get(key)
    if raw is None:
        return None
    if isinstance(raw, str):
        return ToolChoice(mode=one_of(raw, ("none", "auto", "required"), key))  # type: ignore[arg-type]
    choice = obj(raw, key)
    if key == "tool_choice":
        kind = req_str(choice, "type", key)
        if kind != "function":
            raise unsupported(f"{key}.type", f"'{kind}' tool choice is not supported; use "
                                             "'function'")
        name = req_str(obj(choice.get("function"), f"{key}.function"), "name", f"{key}.function")
        param = f"{key}.function.name"
    else:
        name, param = req_str(choice, "name", key), f"{key}.name"
    if not any(t.name == name for t in tools):
        raise invalid(f"Invalid value for '{param}': no function named '{name}' was specified "
                      "in 'tools'.", param, "invalid_value")
    return ToolChoice(mode="tool", name=name)


def _stop(raw: object) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    stops = arr(raw, "stop")
    if len(stops) > 4:
        raise invalid("Invalid 'stop': array too long. Expected an array with maximum length 4.",
                      "stop", "array_above_max_length")
    for i, s in enumerate(stops):
        if not isinstance(s, str):
            raise wrong_type(f"stop[{i}]", "a string", s)
    return list(stops)


def _response_format(raw: object) -> ResponseFormat | None:
    if raw is None:
        return None
    fmt = obj(raw, "response_format")
    kind = one_of(req_str(fmt, "type", "response_format"), ("text", "json_object", "json_schema"),
                  "response_format.type")
    if kind != "json_schema":
        return ResponseFormat(type=kind)  # type: ignore[arg-type]
    path = "response_format.json_schema"
    spec = obj(fmt.get("json_schema"), path)
    schema = spec.get("schema")
    return ResponseFormat(
        type="json_schema",
        name=req_str(spec, "name", path),
        description=opt_str(spec, "description", path),
        schema=obj(schema, f"{path}.schema") if schema is not None else None,
        strict=bool(opt_bool(spec, "strict", path)),
    )


def _reasoning(body: dict[str, Any]) -> ReasoningConfig | None:
    effort = opt_str(body, "reasoning_effort")
    if effort is None:
        return None
    one_of(effort, EFFORTS, "reasoning_effort")
    return ReasoningConfig(enabled=effort != "none", effort=effort)


def _metadata(raw: object) -> dict[str, Any]:
    return shared_metadata.decode_metadata(raw) or {}
