"""Pieces of the OpenAI wire shape shared by requests, results and streams."""

from __future__ import annotations

import re
from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import FinishReason, TokenLogprob, TopLogprob
from switchyard.core.usage import Usage

ERROR_TYPES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.REQUEST_TOO_LARGE: "invalid_request_error",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.QUOTA: "insufficient_quota",
    ErrorKind.UPSTREAM: "api_error",
    ErrorKind.OVERLOADED: "server_error",
    ErrorKind.TIMEOUT: "timeout",
    ErrorKind.SERVER: "server_error",
}

_UPSTREAM_KINDS: dict[str, ErrorKind] = {
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
    "rate_limit_error": ErrorKind.RATE_LIMIT,
    "requests": ErrorKind.RATE_LIMIT,
    "tokens": ErrorKind.RATE_LIMIT,
}

_FINISH_IN: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "eos": "stop",
    "end_turn": "stop",
    "max_tokens": "length",
}

_DATA_URL = re.compile(
    r"^data:(?P<mt>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*);base64,(?P<d>.*)$", re.S
)


def error_body(err: SwitchyardError) -> dict[str, Any]:
    """The OpenAI ``{"error": {...}}`` body for ``err``."""
    code = err.code
    if code is None and err.kind is ErrorKind.QUOTA:
        code = "insufficient_quota"
    return {
        "error": {
            "message": err.message,
            "type": ERROR_TYPES[err.kind],
            "param": err.param,
            "code": code,
        }
    }


def error_from_body(body: object, status: int | None = None) -> SwitchyardError:
    """An upstream's error body (``{"error": {...}}`` or the inner object) as an error.

    Client mistakes the upstream reports (invalid_request_error, rate limits) keep their
    kind; anything else is an upstream failure."""
    inner: Any = body.get("error", body) if isinstance(body, dict) else body
    if not isinstance(inner, dict):
        message = inner if isinstance(inner, str) and inner else "upstream error"
        return SwitchyardError(ErrorKind.UPSTREAM, message)
    raw_message = inner.get("message")
    message = raw_message if isinstance(raw_message, str) and raw_message else "upstream error"
    etype = inner.get("type")
    kind = _UPSTREAM_KINDS.get(etype, ErrorKind.UPSTREAM) if isinstance(etype, str) else None
    kind = kind or ErrorKind.UPSTREAM
    if status == 429:
        kind = ErrorKind.RATE_LIMIT
    code = inner.get("code")
    param = inner.get("param")
    return SwitchyardError(
        kind,
        message,
        param=param if isinstance(param, str) else None,
        code=str(code) if code is not None else None,
    )


def finish_out(reason: FinishReason) -> str:
    return "stop" if reason == "pause" else reason


def finish_in(reason: object) -> FinishReason:
    return _FINISH_IN.get(reason, "stop") if isinstance(reason, str) else "stop"


def usage_out(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _int(d: object, key: str) -> int:
    value = d.get(key) if isinstance(d, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_in(body: object) -> Usage:
    """Usage as OpenAI (or DeepSeek: ``prompt_cache_hit_tokens``) reports it."""
    prompt_details = body.get("prompt_tokens_details") if isinstance(body, dict) else None
    completion_details = body.get("completion_tokens_details") if isinstance(body, dict) else None
    return Usage(
        input_tokens=_int(body, "prompt_tokens"),
        output_tokens=_int(body, "completion_tokens"),
        cached_input_tokens=_int(prompt_details, "cached_tokens")
        or _int(body, "prompt_cache_hit_tokens"),
        reasoning_tokens=_int(completion_details, "reasoning_tokens"),
    )


def logprobs_out(logprobs: list[TokenLogprob]) -> list[dict[str, Any]]:
    return [
        {
            "token": lp.token,
            "logprob": lp.logprob,
            "bytes": lp.bytes,
            "top_logprobs": [
                {"token": t.token, "logprob": t.logprob, "bytes": t.bytes} for t in lp.top
            ],
        }
        for lp in logprobs
    ]


def logprobs_in(choice: dict[str, Any]) -> list[TokenLogprob] | None:
    block = choice.get("logprobs")
    content = block.get("content") if isinstance(block, dict) else None
    if not isinstance(content, list):
        return None
    out = []
    for entry in content:
        if not isinstance(entry, dict):
            continue
        top = entry.get("top_logprobs") or []
        out.append(
            TokenLogprob(
                token=str(entry.get("token", "")),
                logprob=float(entry.get("logprob") or 0.0),
                bytes=entry.get("bytes"),
                top=[
                    TopLogprob(str(t.get("token", "")), float(t.get("logprob") or 0.0),
                               t.get("bytes"))
                    for t in top
                    if isinstance(t, dict)
                ],
            )
        )
    return out


def parse_data_url(url: str) -> tuple[str | None, str] | None:
    """``data:<media type>;base64,<data>`` as (media type, data); None if not such a URL."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    return match.group("mt"), match.group("d")


def data_url(media_type: str | None, data: str) -> str:
    return f"data:{media_type or 'application/octet-stream'};base64,{data}"
