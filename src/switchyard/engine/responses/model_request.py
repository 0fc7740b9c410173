"""The canonical model request for one turn of a response."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_responses import items_to_canonical
from switchyard.core.items import Item, text_message
from switchyard.core.request import Request, Tool, ToolChoice, VendorTools
from switchyard.tools.table import for_model

LOGPROBS_INCLUDE = "message.output_text.logprobs"


def context_items(call: Any, history: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> list[Item]:
    """Stored wire items as a model reads them (built-in tool items replayed by their
    tools); instructions first (never carried over)."""
    items = items_to_canonical([*history, *inputs], inputs_from=len(history))
    if call.instructions:
        items.insert(0, text_message("developer", call.instructions))
    return for_model(items)


def model_request(call: Any, items: list[Item], tools: list[Tool], *, tools_allowed: bool = True,
                  stream: bool = True, forced_done: bool = False) -> Request:
    """``forced_done``: the tool the client forced has run once; let the model answer now."""
    choice = call.tool_choice if tools_allowed else ToolChoice("none")
    if forced_done and choice is not None and choice.mode in ("required", "tool"):
        choice = ToolChoice("auto")
    if choice is not None and choice.mode == "tool" and not any(t.name == choice.name for t in tools):
        choice = ToolChoice("auto")
    include_logprobs = LOGPROBS_INCLUDE in call.include
    return Request(
        model=call.model, items=list(items), tools=list(tools),
        tool_choice=choice if tools else None, parallel_tool_calls=call.parallel_tool_calls,
        temperature=call.temperature, top_p=call.top_p, max_output_tokens=call.max_output_tokens,
        logprobs=bool(call.top_logprobs) or include_logprobs, top_logprobs=call.top_logprobs or None,
        presence_penalty=call.presence_penalty, frequency_penalty=call.frequency_penalty,
        response_format=call.text_format, reasoning=call.reasoning,
        user=call.safety_identifier or call.user, stream=stream,
        service_tier=call.service_tier, prompt_cache_key=call.prompt_cache_key,
        verbosity=call.text_wire.get("verbosity"),
        vendor_tools=VendorTools("openai", list(call.hosted_tools)) if call.hosted_tools else None,
        openai_options=dict(call.openai_options), unavailable=dict(call.unavailable),
        param_names=param_names(call, include_logprobs),
    )


def param_names(call: Any, include_logprobs: bool) -> dict[str, str]:
    """The Responses API's names for canonical parameters whose names differ."""
    return {
        "logprobs": "top_logprobs" if call.top_logprobs or not include_logprobs else "include",
        "reasoning": "reasoning.effort",
        "verbosity": "text.verbosity",
        "user": "safety_identifier" if call.safety_identifier else "user",
        "openai_tools": call.hosted_tools_param,
        "openai_options": next(iter(call.openai_options), "openai_options"),
        "unavailable": next(iter(call.unavailable), "unavailable"),
    }
