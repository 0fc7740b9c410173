"""An Anthropic ``POST /v1/messages`` body → a canonical ``Request``."""

from __future__ import annotations

import logging
from typing import Any

from switchyard.codecs.anthropic_messages import fields as f
from switchyard.codecs.anthropic_messages.client_content import decode_messages, decode_system
from switchyard.core.errors import invalid
from switchyard.core.items import Item, TextPart
from switchyard.core.request import (
    ReasoningConfig,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
    VendorTools,
)

log = logging.getLogger(__name__)

"""Where Anthropic-defined tools (``web_search_20250305``, ``web_fetch_…``, ``bash_…``)
travel in ``Request.metadata`` until the canonical Request has a field for opaque
vendor tools: an Anthropic upstream gets them back verbatim, other upstreams never see
them (nothing else reads this key)."""

_HANDLED = frozenset({
    "model", "messages", "max_tokens", "system", "tools", "tool_choice", "stop_sequences",
    "temperature", "top_p", "top_k", "thinking", "output_config", "output_format", "metadata",
    "stream", "service_tier", "cache_control",
})
# Anthropic-only options: sent as given to an Anthropic upstream, refused by the others.
ANTHROPIC_OPTIONS = ("container", "inference_geo")
# Beta options (they need an ``anthropic-beta`` header upstream, which is not relayed): refused
# everywhere unless neutral.
BETA_OPTIONS = ("context_management", "mcp_servers", "speed")
SERVICE_TIERS = {"auto": "auto", "standard_only": "default"}
EFFORTS = ("low", "medium", "high", "xhigh", "max")


def decode_request(body: dict[str, Any]) -> Request:
    """Validate and translate; unknown or ignored fields (``context_management``,
    ``container``, ``mcp_servers``, ``service_tier``, ``cache_control`` ...) are logged."""
    body = f.obj(body, "body")
    model = f.string(f.get(body, "model", "", required=True), "model")
    if not model:
        raise invalid("model: must not be empty", "model")
    max_tokens = f.integer(f.get(body, "max_tokens", "", required=True), "max_tokens", minimum=1)
    items: list[Item] = []
    system = decode_system(body["system"]) if body.get("system") is not None else None
    if system is not None:
        items.append(system)
    items.extend(decode_messages(f.get(body, "messages", "", required=True)))

    request = Request(model=model, items=items, max_output_tokens=max_tokens)
    request.param_names = {
        "max_output_tokens": "max_tokens", "stop": "stop_sequences", "user": "metadata.user_id",
        "parallel_tool_calls": "tool_choice.disable_parallel_tool_use",
    }
    request.tools, server_tools = _tools(body.get("tools"))
    if server_tools:
        request.param_names["anthropic_tools"] = next(
            f.at("tools", i) for i, t in enumerate(body["tools"]) if t in server_tools)
    request.tool_choice, request.parallel_tool_calls = _tool_choice(body.get("tool_choice"))
    if server_tools:
        request.vendor_tools = VendorTools("anthropic", server_tools)
        names = {t.get("name") for t in server_tools}
        if request.tool_choice is not None and request.tool_choice.name in names:
            request.vendor_tools.choice = request.tool_choice.name
            request.tool_choice = ToolChoice(mode="auto")
    if body.get("stop_sequences") is not None:
        seqs = f.array(body["stop_sequences"], "stop_sequences")
        request.stop = [f.string(s, f.at("stop_sequences", i)) for i, s in enumerate(seqs)]
    request.temperature = f.optional(body, "temperature", "", f.number, low=0.0, high=1.0)
    request.top_p = f.optional(body, "top_p", "", f.number, low=0.0, high=1.0)
    request.top_k = f.optional(body, "top_k", "", f.integer, minimum=0)
    request.reasoning = _thinking(body.get("thinking"))
    request.reasoning, request.response_format = _output_config(body, request.reasoning)
    budget = request.reasoning is not None and request.reasoning.budget_tokens is not None
    request.param_names["reasoning"] = "thinking" if budget else "output_config.effort"
    metadata = f.optional(body, "metadata", "", f.obj) or {}
    request.user = f.optional(metadata, "user_id", "metadata", f.string)
    request.stream = f.optional(body, "stream", "", f.boolean) or False
    tier = f.optional(body, "service_tier", "", f.string)
    if tier is not None:
        request.service_tier = SERVICE_TIERS[f.one_of(tier, "service_tier", tuple(SERVICE_TIERS))]
    _cache_control(body.get("cache_control"), items)
    request.anthropic_options = {k: body[k] for k in ANTHROPIC_OPTIONS if body.get(k) is not None}
    if request.anthropic_options:
        request.param_names["anthropic_options"] = next(iter(request.anthropic_options))
    request.anthropic_beta = {k: body[k] for k in BETA_OPTIONS if not _neutral_beta(k, body.get(k))}
    if request.anthropic_beta:
        request.param_names["anthropic_beta"] = next(iter(request.anthropic_beta))
    ignored = sorted(k for k in body if k not in _HANDLED)
    if ignored:
        log.debug("anthropic request: ignoring fields %s", ", ".join(ignored))
    return request


def _neutral_beta(key: str, value: Any) -> bool:
    """Asks for nothing these backends would not do anyway: absent, ``speed: standard``,
    or context edits that only clear earlier thinking (what Claude Code sends; Anthropic
    itself leaves earlier turns' thinking out of the context for most models)."""
    if value is None or (key == "speed" and value == "standard"):
        return True
    if key != "context_management" or not isinstance(value, dict):
        return False
    edits = value.get("edits")
    return isinstance(edits, list) and all(
        isinstance(e, dict) and str(e.get("type", "")).startswith("clear_thinking") for e in edits)


def _cache_control(value: Any, items: list[Item]) -> None:
    """Top-level ``cache_control`` marks the last cacheable block, as Anthropic does."""
    if value is None:
        return
    control = f.obj(value, "cache_control")
    f.one_of(f.get(control, "type", "cache_control", required=True), "cache_control.type", ("ephemeral",))
    for item in reversed(items):
        parts = getattr(item, "content", None) or getattr(item, "output", None) or []
        for part in reversed(parts):
            if isinstance(part, TextPart):
                part.cache_control = dict(control)
                return


def _tools(value: Any) -> tuple[list[Tool], list[dict[str, Any]]]:
    """Client tools as canonical tools; Anthropic-defined tools (a versioned ``type``
    such as ``web_search_20250305``) apart, as given."""
    if value is None:
        return [], []
    tools: list[Tool] = []
    server_tools: list[dict[str, Any]] = []
    for i, raw in enumerate(f.array(value, "tools")):
        path = f.at("tools", i)
        tool = f.obj(raw, path)
        kind = tool.get("type")
        if kind not in (None, "custom"):
            kind = f.string(kind, f.at(path, "type"))
            f.string(f.get(tool, "name", path, required=True), f.at(path, "name"))
            log.debug("anthropic request: server tool %r kept for Anthropic upstreams only", kind)
            server_tools.append(dict(tool))
            continue
        name = f.string(f.get(tool, "name", path, required=True), f.at(path, "name"))
        schema = f.obj(f.get(tool, "input_schema", path, required=True), f.at(path, "input_schema"))
        tools.append(Tool(
            name=name,
            description=f.optional(tool, "description", path, f.string),
            parameters=schema,
            strict=f.optional(tool, "strict", path, f.boolean) or False,
        ))
    return tools, server_tools


def _tool_choice(value: Any) -> tuple[ToolChoice | None, bool | None]:
    if value is None:
        return None, None
    choice = f.obj(value, "tool_choice")
    kind = f.one_of(
        f.get(choice, "type", "tool_choice", required=True), "tool_choice.type",
        ("auto", "any", "tool", "none"),
    )
    disable = f.optional(choice, "disable_parallel_tool_use", "tool_choice", f.boolean)
    parallel = False if disable else None
    if kind == "tool":
        name = f.string(f.get(choice, "name", "tool_choice", required=True), "tool_choice.name")
        return ToolChoice(mode="tool", name=name), parallel
    mode = {"auto": "auto", "any": "required", "none": "none"}[kind]
    return ToolChoice(mode=mode), parallel  # type: ignore[arg-type]


def _thinking(value: Any) -> ReasoningConfig | None:
    if value is None:
        return None
    thinking = f.obj(value, "thinking")
    kind = f.one_of(
        f.get(thinking, "type", "thinking", required=True), "thinking.type",
        ("enabled", "adaptive", "disabled", "between_tools"),
    )
    if kind == "disabled":
        return ReasoningConfig(enabled=False)
    if kind == "enabled":
        budget = f.get(thinking, "budget_tokens", "thinking", required=True)
        budget = f.integer(budget, "thinking.budget_tokens", minimum=1024)
        return ReasoningConfig(budget_tokens=budget)
    return ReasoningConfig()


def _output_config(
    body: dict[str, Any], reasoning: ReasoningConfig | None
) -> tuple[ReasoningConfig | None, ResponseFormat | None]:
    config = f.optional(body, "output_config", "", f.obj) or {}
    effort = config.get("effort")
    if effort is not None:
        effort = f.one_of(effort, "output_config.effort", EFFORTS)
        reasoning = reasoning or ReasoningConfig()
        reasoning.effort = effort
    fmt, path = config.get("format"), "output_config.format"
    if fmt is None and body.get("output_format") is not None:
        fmt, path = body["output_format"], "output_format"
    if fmt is None:
        return reasoning, None
    fmt = f.obj(fmt, path)
    f.one_of(f.get(fmt, "type", path, required=True), f.at(path, "type"), ("json_schema",))
    schema = f.obj(f.get(fmt, "schema", path, required=True), f.at(path, "schema"))
    return reasoning, ResponseFormat(type="json_schema", schema=schema, strict=True)
