"""Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}}``."""

from __future__ import annotations

from starlette.responses import Response

from switchyard.codecs.anthropic_messages import error_body
from switchyard.core.errors import SwitchyardError
from switchyard.surfaces.http import JSONResponse, error_headers


def render_error(error: SwitchyardError) -> Response:
    return JSONResponse(error_body(error), status_code=error.status, headers=error_headers(error))
