"""Server events outside a response: session, conversation, input audio buffer,
transcription, rate limits and errors. ``event_id`` is the caller's to make."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError

Wire = dict[str, Any]
_TYPES = {ErrorKind.INVALID_REQUEST: "invalid_request_error", ErrorKind.NOT_FOUND: "invalid_request_error",
          ErrorKind.AUTHENTICATION: "authentication_error", ErrorKind.PERMISSION: "permission_error",
          ErrorKind.RATE_LIMIT: "rate_limit_error", ErrorKind.QUOTA: "insufficient_quota",
          ErrorKind.REQUEST_TOO_LARGE: "invalid_request_error"}


def event(event_id: str, kind: str, **fields: Any) -> Wire:
    return {"event_id": event_id, "type": kind, **fields}


def error_event(event_id: str, error: SwitchyardError, client_event_id: str | None) -> Wire:
    """The ``error`` event: its ``param`` names the field, its ``event_id`` the client
    event that caused it."""
    return event(event_id, "error", error={
        "type": _TYPES.get(error.kind, "server_error"), "code": error.code or error.kind.value,
        "message": error.message, "param": error.param, "event_id": client_event_id})


def transcription_failed(event_id: str, item_id: str, error: SwitchyardError) -> Wire:
    return event(event_id, "conversation.item.input_audio_transcription.failed", item_id=item_id, content_index=0,
                 error={"type": _TYPES.get(error.kind, "server_error"), "code": error.code or error.kind.value,
                        "message": error.message, "param": error.param})


def transcription_completed(event_id: str, item_id: str, transcript: str, seconds: float) -> Wire:
    return event(event_id, "conversation.item.input_audio_transcription.completed", item_id=item_id,
                 content_index=0, transcript=transcript, logprobs=None,
                 usage={"type": "duration", "seconds": round(seconds, 3)})


def rate_limits(event_id: str, limits: list[tuple[str, int, int, float]]) -> Wire:
    """``limits``: (name, limit, remaining, reset_seconds) for ``requests`` and ``tokens``."""
    return event(event_id, "rate_limits.updated", rate_limits=[
        {"name": name, "limit": limit, "remaining": remaining, "reset_seconds": reset}
        for name, limit, remaining, reset in limits])
