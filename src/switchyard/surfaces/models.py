"""GET /v1/models and /v1/models/{model}, in OpenAI's shape or, when the request
carries ``anthropic-version``, in Anthropic's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from switchyard.gateway.auth import Principal
from switchyard.gateway.router import Route
from switchyard.surfaces.anthropic.errors import render_error as render_anthropic
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse
from switchyard.surfaces.openai.errors import render_error as render_openai

CREATED = 1_767_225_600  # 2026-01-01: a fixed date, so listings are stable


def _is_anthropic(request: Request) -> bool:
    return "anthropic-version" in request.headers


def _openai_model(route: Route) -> dict[str, Any]:
    owner = route.config.owned_by or ("switchyard" if route.config.provider == "local" else route.config.provider)
    return {"id": route.name, "object": "model", "created": CREATED, "owned_by": owner}


def _anthropic_model(route: Route) -> dict[str, Any]:
    created = datetime.fromtimestamp(CREATED, UTC).isoformat().replace("+00:00", "Z")
    return {
        "type": "model", "id": route.name, "display_name": route.name, "created_at": created,
        "lifecycle": "active", "deprecated_at": None, "retires_at": None, "line": None,
        "max_input_tokens": route.config.context_length if route.config.provider == "local" else None,
        "max_tokens": None,
    }


@endpoint(render_openai)
async def _list_openai(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse({"object": "list", "data": [_openai_model(r) for r in services.models.routes()]})


@endpoint(render_anthropic)
async def _list_anthropic(request: Request, services: Services, principal: Principal) -> Response:
    data = [_anthropic_model(r) for r in services.models.routes()]
    first = data[0]["id"] if data else None
    last = data[-1]["id"] if data else None
    return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})


@endpoint(render_openai)
async def _get_openai(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(_openai_model(services.models.resolve(request.path_params["model"])))


@endpoint(render_anthropic)
async def _get_anthropic(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(_anthropic_model(services.models.resolve(request.path_params["model"])))


async def list_models(request: Request) -> Response:
    return await (_list_anthropic if _is_anthropic(request) else _list_openai)(request)


async def get_model(request: Request) -> Response:
    return await (_get_anthropic if _is_anthropic(request) else _get_openai)(request)
