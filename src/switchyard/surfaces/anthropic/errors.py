"""Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}}``."""

from __future__ import annotations

from starlette.responses import Response

from switchyard.codecs.anthropic_messages import error_body
from switchyard.core.errors import SwitchyardError
from switchyard.gateway.telemetry.request_trace import current_request_id
from switchyard.surfaces.http import JSONResponse, error_headers


def render_error(error: SwitchyardError) -> Response:
    body = error_body(error)
    body["request_id"] = current_request_id()  # the ``request-id`` header's value, as Anthropic sends it
    return JSONResponse(body, status_code=error.status, headers=error_headers(error))
