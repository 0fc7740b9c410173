"""Vocabulary shared by both directions: stop reasons, usage and error types."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import FinishReason
from switchyard.core.usage import Usage

SERVER_TOOL_BLOCKS = frozenset({
    "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
    "code_execution_tool_result", "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result", "tool_search_tool_result",
})
"""Content blocks of the tools Anthropic runs itself: carried whole, as vendor items."""

STOP_TO_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "pause",
}

FINISH_TO_STOP: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "pause": "pause_turn",
}

# ``request_too_large`` is what Anthropic sends with a 413 (their errors page), though
# neither the OpenAPI spec nor the SDK list it; quota exhaustion is a 429 like a rate limit.
KIND_TO_ERROR_TYPE: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.REQUEST_TOO_LARGE: "request_too_large",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.QUOTA: "rate_limit_error",
    ErrorKind.UPSTREAM: "api_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.SERVER: "api_error",
}

ERROR_TYPE_TO_KIND: dict[str, ErrorKind] = {
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
    "authentication_error": ErrorKind.AUTHENTICATION,
    "billing_error": ErrorKind.QUOTA,
    "permission_error": ErrorKind.PERMISSION,
    "not_found_error": ErrorKind.NOT_FOUND,
    "request_too_large": ErrorKind.REQUEST_TOO_LARGE,
    "rate_limit_error": ErrorKind.RATE_LIMIT,
    "timeout_error": ErrorKind.TIMEOUT,
    "api_error": ErrorKind.UPSTREAM,
    "overloaded_error": ErrorKind.OVERLOADED,
}


def stop_reason(reason: FinishReason, stop_sequence: str | None) -> str:
    if reason == "stop" and stop_sequence is not None:
        return "stop_sequence"
    return FINISH_TO_STOP[reason]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from_wire(wire: dict[str, Any] | None) -> Usage:
    """Anthropic's ``input_tokens`` excludes cache reads and writes; ours includes them."""
    if not isinstance(wire, dict):
        return Usage()
    read = _int(wire.get("cache_read_input_tokens"))
    created = _int(wire.get("cache_creation_input_tokens"))
    details = wire.get("output_tokens_details")
    thinking = _int(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    return Usage(
        input_tokens=_int(wire.get("input_tokens")) + read + created,
        output_tokens=_int(wire.get("output_tokens")),
        cached_input_tokens=read,
        cache_creation_input_tokens=created,
        reasoning_tokens=thinking,
    )


def usage_to_wire(usage: Usage) -> dict[str, Any]:
    """A full ``Usage`` object as ``Message.usage`` carries it."""
    return {
        "input_tokens": uncached_input(usage),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
        "cache_creation": None,
        "server_tool_use": None,
        "service_tier": None,
        "inference_geo": None,
    }


def uncached_input(usage: Usage) -> int:
    return max(
        0, usage.input_tokens - usage.cached_input_tokens - usage.cache_creation_input_tokens
    )


def error_body(err: SwitchyardError) -> dict[str, Any]:
    """The body of an Anthropic error response (and of an SSE ``error`` event)."""
    return {
        "type": "error",
        "error": {"type": KIND_TO_ERROR_TYPE[err.kind], "message": err.message},
        "request_id": None,
    }


def error_from_wire(body: dict[str, Any] | None) -> SwitchyardError:
    """A ``{"type": "error", "error": {...}}`` body as a ``SwitchyardError``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return SwitchyardError(ErrorKind.UPSTREAM, "Anthropic sent a malformed error")
    kind = ERROR_TYPE_TO_KIND.get(str(error.get("type")), ErrorKind.UPSTREAM)
    message = error.get("message")
    return SwitchyardError(kind, message if isinstance(message, str) else "upstream error")
