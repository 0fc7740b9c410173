"""What a batch line runs: each endpoint's own ``answer`` (the code path of its
non-streaming requests), with errors rendered in that surface's wire shape, as the
status and body an HTTP client would have got."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from switchyard.codecs.anthropic_messages import error_body as anthropic_error
from switchyard.codecs.openai_chat import error_body as openai_error
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.batches.lines import LineCall, LineCalls, LineResult
from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import current_scope
from switchyard.surfaces.anthropic import messages
from switchyard.surfaces.context import Services
from switchyard.surfaces.openai import chat, completions, embeddings, moderations, responses

log = logging.getLogger(__name__)

Answer = Callable[[Services, Principal, dict[str, Any]], Awaitable[dict[str, Any]]]
Render = Callable[[SwitchyardError], dict[str, Any]]


def _anthropic_error(error: SwitchyardError) -> dict[str, Any]:
    body = anthropic_error(error)
    scope = current_scope()
    body["request_id"] = scope.request_id if scope is not None else None
    return body


def _line(services: Services, answer: Answer, render: Render) -> LineCall:
    async def call(principal: Principal, body: dict[str, Any]) -> LineResult:
        try:
            return LineResult(200, await answer(services, principal, dict(body)))
        except SwitchyardError as error:
            return LineResult(error.status, render(error), error)
        except Exception:
            log.exception("a batch line failed")
            return LineResult(500, render(SwitchyardError(ErrorKind.SERVER, "Internal server error.")))

    return call


def line_calls(services: Services) -> dict[str, LineCalls]:
    """By API, then by endpoint."""
    return {
        "openai": {
            "/v1/chat/completions": _line(services, chat.answer, openai_error),
            "/v1/completions": _line(services, completions.answer, openai_error),
            "/v1/embeddings": _line(services, embeddings.answer, openai_error),
            "/v1/responses": _line(services, responses.answer, openai_error),
            "/v1/moderations": _line(services, moderations.answer, openai_error),
        },
        "anthropic": {"/v1/messages": _line(services, messages.answer, _anthropic_error)},
    }
