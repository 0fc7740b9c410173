"""A canonical ``Request`` to the body sent to an OpenAI-compatible upstream.

``max_tokens`` (not ``max_completion_tokens``) carries the output limit: DeepSeek, vLLM,
Ollama and llama.cpp all know it, and OpenAI accepts it for non-reasoning models. A
provider talking to OpenAI reasoning models renames it after the call."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.wire import data_url
from switchyard.core.errors import unsupported
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
from switchyard.core.request import ReasoningConfig, Request, ResponseFormat, ToolChoice


def encode_request(
    request: Request, *, model: str, reasoning_content: bool = True
) -> dict[str, Any]:
    """The upstream body. ``reasoning_content=False`` drops earlier assistant reasoning
    (for servers that reject the field in input messages)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": encode_messages(request.items, reasoning_content=reasoning_content),
    }
    if request.tools:
        body["tools"] = [_tool(t.name, t.description, t.parameters, t.strict)
                         for t in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    optional = {
        "parallel_tool_calls": request.parallel_tool_calls if request.tools else None,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_output_tokens,
        "stop": request.stop or None,
        "seed": request.seed,
        "n": request.n if request.n != 1 else None,
        "logprobs": True if request.logprobs else None,
        "top_logprobs": request.top_logprobs if request.logprobs else None,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "response_format": _response_format(request.response_format),
        "reasoning_effort": reasoning_effort(request.reasoning),
        "user": request.user,
        "logit_bias": request.logit_bias or None,
        "service_tier": request.service_tier,
        "prompt_cache_key": request.prompt_cache_key,
        "verbosity": request.verbosity,
        "prediction": request.prediction,
        "store": request.store,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    body.update(request.openai_options)
    if request.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def reasoning_effort(reasoning: ReasoningConfig | None) -> str | None:
    """OpenAI's effort scale from either vendor's setting: an Anthropic thinking
    budget maps to the nearest effort."""
    if reasoning is None or not reasoning.enabled:
        return None
    if reasoning.effort:
        return reasoning.effort
    if reasoning.budget_tokens is None:
        return None
    if reasoning.budget_tokens <= 2048:
        return "low"
    return "medium" if reasoning.budget_tokens <= 12288 else "high"


def encode_messages(items: list[Item], *, reasoning_content: bool = True) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    assistant: dict[str, Any] | None = None
    for i, item in enumerate(items):
        if isinstance(item, Reasoning | FunctionCall) or (
            isinstance(item, Message) and item.role == "assistant"
        ):
            if assistant is None:
                assistant = {"role": "assistant", "content": None}
                messages.append(assistant)
            _merge_assistant(assistant, item, reasoning_content)
            continue
        assistant = None
        if isinstance(item, FunctionCallOutput):
            messages.append({"role": "tool", "tool_call_id": item.call_id,
                             "content": _tool_output(item.output)})
        elif isinstance(item, Message):
            role = "user" if item.role == "user" else "system"
            message = {"role": role, "content": _content(item.content, f"items[{i}]")}
            if item.name:
                message["name"] = item.name
            messages.append(message)
    return messages


def _merge_assistant(message: dict[str, Any], item: Item, reasoning_content: bool) -> None:
    if isinstance(item, Reasoning):
        if item.text and reasoning_content:
            message["reasoning_content"] = message.get("reasoning_content", "") + item.text
    elif isinstance(item, FunctionCall):
        message.setdefault("tool_calls", []).append({
            "id": item.call_id,
            "type": "function",
            "function": {"name": item.name, "arguments": item.arguments},
        })
    elif isinstance(item, Message):
        text = "".join(p.text for p in item.content if isinstance(p, TextPart))
        refusal = "".join(p.refusal for p in item.content if isinstance(p, RefusalPart))
        if text or not refusal:
            message["content"] = (message["content"] or "") + text
        if refusal:
            message["refusal"] = message.get("refusal", "") + refusal
        if item.name:
            message["name"] = item.name


def _content(parts: list[Part], path: str) -> str | list[dict[str, Any]]:
    if all(isinstance(p, TextPart) for p in parts):
        return "".join(p.text for p in parts if isinstance(p, TextPart))
    out: list[dict[str, Any]] = []
    for j, part in enumerate(parts):
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            image: dict[str, Any] = {"url": part.url or data_url(part.media_type, part.data or "")}
            if part.detail:
                image["detail"] = part.detail
            out.append({"type": "image_url", "image_url": image})
        elif isinstance(part, FilePart):
            out.append({"type": "file", "file": _file(part, part.path or f"{path}.content[{j}]")})
        else:
            out.append({"type": "text", "text": part.refusal})
    return out


def _file(part: FilePart, path: str) -> dict[str, Any]:
    file: dict[str, Any] = {}
    if part.data is not None:
        file["file_data"] = data_url(part.media_type, part.data)
    elif part.file_id is not None:
        file["file_id"] = part.file_id
    else:
        raise unsupported(path, "files given by URL cannot be sent to a chat completions upstream")
    if part.filename:
        file["filename"] = part.filename
    return file


def _tool_output(parts: list[Part]) -> str:
    return "".join(
        p.text if isinstance(p, TextPart) else "[image omitted]" if isinstance(p, ImagePart)
        else "[file omitted]" if isinstance(p, FilePart) else p.refusal
        for p in parts
    )


def _tool(name: str, description: str | None, parameters: dict[str, Any],
          strict: bool) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": name}
    if description:
        fn["description"] = description
    fn["parameters"] = parameters
    if strict:
        fn["strict"] = True
    return {"type": "function", "function": fn}


def _tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def _response_format(fmt: ResponseFormat | None) -> dict[str, Any] | None:
    if fmt is None:
        return None
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    spec: dict[str, Any] = {"name": fmt.name or "response"}
    if fmt.description:
        spec["description"] = fmt.description
    if fmt.schema is not None:
        spec["schema"] = fmt.schema
    if fmt.strict:
        spec["strict"] = True
    return {"type": "json_schema", "json_schema": spec}
