"""The wire ``Response`` object, its usage and error pieces."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.wire import error_body
from switchyard.codecs.openai_responses.call import ResponsesCall
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.usage import Usage

STATUSES = ("completed", "failed", "in_progress", "cancelled", "queued", "incomplete")


def usage_out(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_creation_input_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def response_error(err: SwitchyardError) -> dict[str, Any]:
    """The ``error`` of a failed response; ``code`` is one of the spec's few codes."""
    if err.kind in (ErrorKind.RATE_LIMIT, ErrorKind.QUOTA):
        code = "rate_limit_exceeded"
    elif err.kind in (ErrorKind.INVALID_REQUEST, ErrorKind.REQUEST_TOO_LARGE):
        code = "invalid_prompt"
    else:
        code = "server_error"
    return {"code": code, "message": err.message}


def encode_error(err: SwitchyardError) -> dict[str, Any]:
    """The HTTP error body (``{"error": {...}}``)."""
    return error_body(err)


def stream_error(err: SwitchyardError, sequence_number: int) -> dict[str, Any]:
    """An ``error`` stream event made outside an encoder (a follower's stream cut short):
    OpenAI's flat fields, and the same under ``error`` as the API also sends it, which the
    OpenAI SDKs raise as their ``APIError``."""
    body = error_body(err)["error"]
    return {"type": "error", "sequence_number": sequence_number, "code": body["code"] or body["type"],
            "message": err.message, "param": err.param, "error": body}


def build_response(
    call: ResponsesCall,
    *,
    id: str,
    created_at: int,
    status: str,
    output: list[dict[str, Any]],
    usage: Usage | None = None,
    error: dict[str, Any] | None = None,
    incomplete_details: dict[str, Any] | None = None,
    completed_at: int | None = None,
) -> dict[str, Any]:
    """Every key OpenAI and Open Responses send, the request's settings echoed with
    OpenAI's defaults. ``usage`` is null until known (Open Responses requires the key);
    ``output_text`` is left out (the SDKs compute it), and ``user`` when None."""
    if status not in STATUSES:
        raise ValueError(f"not a response status: {status!r}")
    body = {
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": call.background,
        "completed_at": completed_at,
        "conversation": {"id": call.conversation} if call.conversation else None,
        "error": error,
        "incomplete_details": incomplete_details,
        "instructions": call.instructions,
        "max_output_tokens": call.max_output_tokens,
        "max_tool_calls": call.max_tool_calls,
        "metadata": dict(call.metadata),
        "model": call.model,
        "output": output,
        "parallel_tool_calls": call.parallel_tool_calls,
        "previous_response_id": call.previous_response_id,
        "presence_penalty": call.presence_penalty if call.presence_penalty is not None else 0.0,
        "frequency_penalty": call.frequency_penalty if call.frequency_penalty is not None else 0.0,
        "prompt_cache_key": call.prompt_cache_key,
        "reasoning": dict(call.reasoning_wire),
        "safety_identifier": call.safety_identifier,
        "service_tier": call.service_tier if call.service_tier not in (None, "auto") else "default",
        "store": call.store,
        "temperature": call.temperature if call.temperature is not None else 1.0,
        "text": dict(call.text_wire),
        "tool_choice": call.tool_choice_wire,
        "tools": list(call.tools_wire),
        "top_logprobs": call.top_logprobs or 0,
        "top_p": call.top_p if call.top_p is not None else 1.0,
        "truncation": call.truncation,
        "usage": usage_out(usage) if usage is not None else None,
    }
    if call.user is not None:
        body["user"] = call.user
    return body
