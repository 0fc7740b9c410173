"""OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from starlette.responses import Response

from switchyard.codecs.openai_chat import error_body
from switchyard.core.errors import SwitchyardError
from switchyard.surfaces.http import JSONResponse, error_headers


def render_error(error: SwitchyardError) -> Response:
    return JSONResponse(error_body(error), status_code=error.status, headers=error_headers(error))
