"""A canonical ``Request`` → the body of Anthropic's ``POST /v1/messages``.

Decisions (the wire has no place for some canonical shapes):
- System/developer messages before the first other item become top-level ``system``
  text blocks (``cache_control`` kept). Later ones become a user-turn text block
  ``<system>...</system>``: Anthropic accepts no ``system`` role in ``messages``.
- Items map to turns (FunctionCall and Reasoning → assistant; FunctionCallOutput →
  user) and consecutive items of one role merge into one message, so turns alternate.
  Within a user turn, ``tool_result`` blocks move first, as Anthropic requires.
  A leading assistant turn is sent as is.
- Vendor items of Anthropic (server tool calls and results a client sent back) go into
  their assistant turn as they came; another vendor's are left out.
- Reasoning: with a signature → ``thinking``; opaque without a signature →
  ``redacted_thinking``; plain text without a signature (another vendor's) is dropped.
- ``max_tokens`` is required: ``max_output_tokens``, else ``DEFAULT_MAX_TOKENS`` plus the
  thinking budget if there is one.
- Thinking: ``budget_tokens``, else effort → ``EFFORT_BUDGET``, else medium; the budget is
  clamped below ``max_tokens`` and thinking omitted when that leaves under 1024 tokens.
  ``enabled=False`` → ``{"type": "disabled"}``. Thinking is also left out when the last
  assistant turn calls tools without starting with a signed thinking block (a client that
  did not keep it, or another vendor's reasoning): Anthropic refuses thinking then.
  With thinking on, ``temperature``,
  ``top_p`` and ``top_k`` are not sent (Anthropic rejects most values of them).
- ``temperature`` is clamped to Anthropic's 0..1. ``response_format`` json_schema →
  ``output_config.format``; ``json_object`` has no Anthropic equivalent and is not sent.
- ``service_tier`` ``default`` → ``standard_only``; a ``prompt_cache_key`` turns on automatic
  caching (top-level ``cache_control``); Anthropic-only options are sent as given.
- What Anthropic cannot take (``n``, ``seed``, ``logprobs``, penalties ...) never gets here:
  ``engine.parameter_check`` refuses it first (see ``providers.anthropic.PARAMETERS``).
- Anthropic-defined tools a client sent (``web_search_20250305`` ...; carried in
  ``Request.vendor_tools``) go back into ``tools`` as given, and a ``tool_choice``
  that named one of them is restored.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from switchyard.codecs.anthropic_messages.client_result import VENDOR, tool_input
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Item,
    Message,
    Part,
    Reasoning,
    RefusalPart,
    TextPart,
)
from switchyard.core.request import ReasoningConfig, Request, Tool
from switchyard.core.tool_items import VendorItem

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 4096
SERVICE_TIERS = {"auto": "auto", "default": "standard_only"}
MIN_THINKING_BUDGET = 1024
EFFORT_BUDGET = {
    "none": 0, "minimal": 1024, "low": 1024, "medium": 4096, "high": 16384, "xhigh": 32768,
    "max": 32768,
}


def encode_request(request: Request, *, model: str) -> dict[str, Any]:
    system, rest = _split_system(request.items)
    turns = _turns(rest)
    body: dict[str, Any] = {"model": model, "messages": turns}
    if system:
        body["system"] = system
    budget = _budget(request.reasoning, request.max_output_tokens) if _can_think(turns) else None
    max_tokens = request.max_output_tokens or DEFAULT_MAX_TOKENS + (budget or 0)
    body["max_tokens"] = max_tokens
    thinking = _thinking(request.reasoning, budget, max_tokens)
    if thinking is not None:
        body["thinking"] = thinking
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if thinking is None or thinking["type"] == "disabled":
        if request.temperature is not None:
            body["temperature"] = min(max(request.temperature, 0.0), 1.0)
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.top_k is not None:
            body["top_k"] = request.top_k
    vendor = request.vendor_tools if request.vendor_tools and request.vendor_tools.vendor == "anthropic" else None
    server_tools = vendor.tools if vendor else []
    if request.tools or server_tools:
        body["tools"] = [_tool(t) for t in request.tools] + [dict(t) for t in server_tools]
        choice = _tool_choice(request)
        server_choice = vendor.choice if vendor else None
        if server_choice is not None and choice is not None and choice["type"] == "auto":
            choice = {**choice, "type": "tool", "name": server_choice}
        if choice is not None:
            body["tool_choice"] = choice
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema is not None:
        body["output_config"] = {"format": {"type": "json_schema", "schema": fmt.schema}}
    body.update(_options(request))
    if request.stream:
        body["stream"] = True
    return body


def _options(request: Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if request.user:
        out["metadata"] = {"user_id": request.user}
    if request.service_tier is not None:
        out["service_tier"] = SERVICE_TIERS.get(request.service_tier, request.service_tier)
    if request.prompt_cache_key is not None:
        out["cache_control"] = {"type": "ephemeral"}
    return {**out, **request.anthropic_options}


def _can_think(turns: list[dict[str, Any]]) -> bool:
    """Anthropic requires the last assistant turn, when it calls tools, to start with the
    thinking block that preceded the calls."""
    last = next((t["content"] for t in reversed(turns) if t["role"] == "assistant"), None)
    if last is None or not any(b["type"] == "tool_use" for b in last):
        return True
    return last[0]["type"] in ("thinking", "redacted_thinking")


def _split_system(items: list[Item]) -> tuple[list[dict[str, Any]], list[Item]]:
    blocks: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        if not (isinstance(item, Message) and item.role in ("system", "developer")):
            return blocks, items[n:]
        blocks += [_text(p) for p in item.content if isinstance(p, TextPart) and p.text]
    return blocks, []


def _text(part: TextPart, text: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": part.text if text is None else text}
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    return block


def _role(item: Item) -> str:
    if isinstance(item, Message):
        return "assistant" if item.role == "assistant" else "user"
    return "user" if isinstance(item, FunctionCallOutput) else "assistant"


def _turns(items: list[Item]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for item in items:
        blocks = _item_blocks(item)
        if not blocks:
            continue
        role = _role(item)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += blocks
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return turns


def _item_blocks(item: Item) -> list[dict[str, Any]]:
    if isinstance(item, Message):
        if item.role in ("system", "developer"):
            return [_text(p, f"<system>\n{p.text}\n</system>")
                    for p in item.content if isinstance(p, TextPart) and p.text]
        return [b for p in item.content if (b := _part(p)) is not None]
    if isinstance(item, FunctionCall):
        return [{"type": "tool_use", "id": item.call_id, "name": item.name,
                 "input": tool_input(item.arguments)}]
    if isinstance(item, VendorItem):
        return [dict(item.data)] if item.vendor == VENDOR else []
    if not isinstance(item, FunctionCallOutput | Reasoning):
        return []  # built-in tool items: the engine replays them as calls before a model sees them
    if isinstance(item, FunctionCallOutput):
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": item.call_id}
        content = [b for p in item.output if (b := _part(p)) is not None]
        if content:
            block["content"] = content
        if item.is_error:
            block["is_error"] = True
        return [block]
    if item.signature:
        return [{"type": "thinking", "thinking": item.text, "signature": item.signature}]
    if item.encrypted is not None:
        return [{"type": "redacted_thinking", "data": item.encrypted}]
    log.debug("dropping reasoning without a signature: Anthropic cannot verify it")
    return []


def _part(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return _text(part) if part.text else None
    if isinstance(part, RefusalPart):
        return {"type": "text", "text": part.refusal} if part.refusal else None
    if isinstance(part, ImagePart):
        return {"type": "image", "source": _image_source(part)}
    return _document(part)


def _image_source(part: ImagePart) -> dict[str, Any]:
    if part.data is not None:
        return {"type": "base64", "media_type": part.media_type or "image/png", "data": part.data}
    url = part.url or ""
    if url.startswith("data:") and ";base64," in url:
        head, data = url[5:].split(";base64,", 1)
        return {"type": "base64", "media_type": head or "image/png", "data": data}
    return {"type": "url", "url": url}


def _document(part: FilePart) -> dict[str, Any]:
    if part.file_id is not None:
        source: dict[str, Any] = {"type": "file", "file_id": part.file_id}
    elif part.data is not None and (part.media_type or "").startswith("text/"):
        text = base64.b64decode(part.data).decode("utf-8", errors="replace")
        source = {"type": "text", "media_type": "text/plain", "data": text}
    elif part.data is not None:
        source = {"type": "base64", "media_type": part.media_type or "application/pdf",
                  "data": part.data}
    else:
        source = {"type": "url", "url": part.url or ""}
    block: dict[str, Any] = {"type": "document", "source": source}
    if part.filename:
        block["title"] = part.filename
    return block


def _tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name, "input_schema": {"type": "object", **tool.parameters}}
    if tool.description:
        out["description"] = tool.description
    if tool.strict:
        out["strict"] = True
    return out


def _tool_choice(request: Request) -> dict[str, Any] | None:
    choice = request.tool_choice
    mode = choice.mode if choice is not None else "auto"
    if mode == "none":
        return {"type": "none"}
    out: dict[str, Any] = {"type": {"auto": "auto", "required": "any", "tool": "tool"}[mode]}
    if mode == "tool" and choice is not None:
        out["name"] = choice.name
    if request.parallel_tool_calls is False:
        out["disable_parallel_tool_use"] = True
    if choice is None and "disable_parallel_tool_use" not in out:
        return None
    return out


def _budget(reasoning: ReasoningConfig | None, max_output_tokens: int | None) -> int | None:
    if reasoning is None or not reasoning.enabled:
        return None
    if reasoning.budget_tokens is not None:
        budget = reasoning.budget_tokens
    else:
        budget = EFFORT_BUDGET.get(reasoning.effort or "medium", EFFORT_BUDGET["medium"])
    if max_output_tokens is not None:
        budget = min(budget, max_output_tokens - 1)
    return budget if budget >= MIN_THINKING_BUDGET else None


def _thinking(
    reasoning: ReasoningConfig | None, budget: int | None, max_tokens: int
) -> dict[str, Any] | None:
    if reasoning is None:
        return None
    if not reasoning.enabled:
        return {"type": "disabled"}
    if budget is None:
        return None
    return {"type": "enabled", "budget_tokens": min(budget, max_tokens - 1)}
