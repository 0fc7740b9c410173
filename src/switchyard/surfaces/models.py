"""GET /v1/models and /v1/models/{model}, in OpenAI's shape or, when the request
carries ``anthropic-version``, in Anthropic's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.auth import Principal
from switchyard.surfaces.anthropic.errors import render_error as render_anthropic
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse
from switchyard.surfaces.openai.errors import render_error as render_openai

CREATED = 1_767_225_600  # 2026-01-01: a fixed date, so listings are stable


def _is_anthropic(request: Request) -> bool:
    return "anthropic-version" in request.headers


def _visible(services: Services, principal: Principal) -> list[ModelConfig]:
    """The models the caller's key and project allowlists let it use."""
    return [m for m in _listed(services) if principal.may_use_model(m.name)]


def _find(services: Services, principal: Principal, name: str) -> ModelConfig:
    route = services.models.find(name)
    if route is not None and principal.may_use_model(name, route.name):
        return route.config
    for config in _visible(services, principal):
        if config.name == name:
            return config
    raise SwitchyardError(ErrorKind.NOT_FOUND, f"The model '{name}' does not exist or you do not have access to it.",
                          param="model", code="model_not_found")


def _openai_model(config: ModelConfig) -> dict[str, Any]:
    owner = config.owned_by or ("switchyard" if config.provider == "local" else config.provider)
    return {"id": config.name, "object": "model", "created": CREATED, "owned_by": owner}


def _anthropic_model(config: ModelConfig) -> dict[str, Any]:
    created = datetime.fromtimestamp(CREATED, UTC).isoformat().replace("+00:00", "Z")
    return {
        "type": "model", "id": config.name, "display_name": config.name, "created_at": created,
        "lifecycle": "active", "deprecated_at": None, "retires_at": None, "line": None,
        "max_input_tokens": config.window, "max_tokens": None,
    }


def _listed(services: Services) -> list[ModelConfig]:
    """The configured models, then those that exist only through deployments added by API."""
    declared = list(services.settings.models)
    names = {m.name for m in declared}
    return declared + [r.config for r in services.models.routes() if r.name not in names]


@endpoint(render_openai)
async def _list_openai(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse({"object": "list", "data": [_openai_model(m) for m in _visible(services, principal)]})


@endpoint(render_anthropic)
async def _list_anthropic(request: Request, services: Services, principal: Principal) -> Response:
    data = [_anthropic_model(m) for m in _visible(services, principal)]
    first = data[0]["id"] if data else None
    last = data[-1]["id"] if data else None
    return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})


@endpoint(render_openai)
async def _get_openai(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(_openai_model(_find(services, principal, request.path_params["model"])))


@endpoint(render_anthropic)
async def _get_anthropic(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(_anthropic_model(_find(services, principal, request.path_params["model"])))


async def list_models(request: Request) -> Response:
    return await (_list_anthropic if _is_anthropic(request) else _list_openai)(request)


async def get_model(request: Request) -> Response:
    return await (_get_anthropic if _is_anthropic(request) else _get_openai)(request)
