"""A canonical request as a Responses API body for an upstream."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.request_out import reasoning_effort
from switchyard.codecs.openai_chat.wire import data_url
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
from switchyard.core.request import Request, ResponseFormat, ToolChoice


def encode_request(request: Request, *, model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "input": [wire for item in request.items if (wire := _item(item)) is not None],
        "store": False,
        "include": ["reasoning.encrypted_content"],
    }
    if request.tools:
        body["tools"] = [{"type": "function", "name": t.name, "description": t.description,
                          "parameters": t.parameters, "strict": t.strict} for t in request.tools]
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.tool_choice is not None:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    optional = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_output_tokens": request.max_output_tokens,
        "top_logprobs": request.top_logprobs if request.logprobs else None,
        "safety_identifier": request.user,
        "service_tier": request.service_tier,
        "prompt_cache_key": request.prompt_cache_key,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    body.update(request.openai_options)
    if request.logprobs:
        body["include"].append("message.output_text.logprobs")
    text: dict[str, Any] = {}
    if request.response_format is not None and request.response_format.type != "text":
        text["format"] = _format(request.response_format)
    if request.verbosity is not None:
        text["verbosity"] = request.verbosity
    if text:
        body["text"] = text
    effort = reasoning_effort(request.reasoning)
    if effort is not None:
        summary = request.reasoning.summary if request.reasoning is not None else None
        body["reasoning"] = {"effort": effort, "summary": summary or "auto"}
    if request.stream:
        body["stream"] = True
    return body


def _item(item: Item) -> dict[str, Any] | None:
    match item:
        case Message(role="assistant"):
            text = "".join(p.text if isinstance(p, TextPart) else p.refusal if isinstance(p, RefusalPart) else ""
                           for p in item.content)
            return {"role": "assistant", "content": text}
        case Message():
            return {"role": item.role, "content": [_part(p) for p in item.content]}
        case FunctionCall():
            return {"type": "function_call", "call_id": item.call_id, "name": item.name,
                    "arguments": item.arguments or "{}"}
        case FunctionCallOutput():
            return {"type": "function_call_output", "call_id": item.call_id,
                    "output": ("Error: " if item.is_error else "") + item.text()}
        case Reasoning(encrypted=encrypted) if encrypted:
            return {"type": "reasoning", "encrypted_content": encrypted,
                    "summary": [{"type": "summary_text", "text": item.text}] if item.text else []}
    return None  # reasoning without an OpenAI blob (another vendor's) stays behind


def _part(part: Part) -> dict[str, Any]:
    match part:
        case TextPart():
            return {"type": "input_text", "text": part.text}
        case ImagePart():
            url = part.url or data_url(part.media_type or "image/png", part.data or "")
            return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}
        case FilePart():
            wire: dict[str, Any] = {"type": "input_file"}
            if part.file_id:
                wire["file_id"] = part.file_id
            if part.data:
                wire["file_data"] = data_url(part.media_type or "application/pdf", part.data)
                wire["filename"] = part.filename or "file"
            if part.url:
                wire["file_url"] = part.url
            return wire
        case RefusalPart():
            return {"type": "input_text", "text": part.refusal}
    raise TypeError(part)


def _tool_choice(choice: ToolChoice) -> Any:
    if choice.mode == "tool":
        return {"type": "function", "name": choice.name}
    return choice.mode


def _format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type == "json_object":
        return {"type": "json_object"}
    out: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "output", "schema": fmt.schema or {},
                           "strict": fmt.strict}
    if fmt.description:
        out["description"] = fmt.description
    return out
