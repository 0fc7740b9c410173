"""``/v1/organization/deployments``: the upstreams behind each public model name
(a Switchyard extension, in the style of OpenAI's Administration API). Admin keys
only. Credentials are write-only: answers carry a redacted hint, never the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal, require_admin
from switchyard.gateway.breaker import BreakerSettings
from switchyard.gateway.deployment_service import DeploymentView
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body, page_params

PROVIDERS = ("openai", "openai-responses", "anthropic")
MAX_BODY = 64 * 1024


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 2048:
        raise invalid(f"'{name}' must be a non-empty string (at most 2048 characters).", name)
    return value


def _provider(name: str, value: Any) -> str:
    if value not in PROVIDERS:
        raise invalid(f"'{name}' must be one of {', '.join(PROVIDERS)}; got {value!r}.", name)
    return str(value)


def _url(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = _string(name, value)
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise invalid(f"'{name}' must be an http(s) URL.", name)
    return text


def _headers(name: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid(f"'{name}' must be an object of string values.", name)
    return dict(value)


def _number(positive_only: bool, integer: bool) -> Callable[[str, Any], Any]:
    def read(name: str, value: Any) -> int | float | None:
        if value is None and positive_only:
            return None
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise invalid(f"'{name}' must be {'an integer' if integer else 'a number'}.", name)
        number: int | float = value
        if positive_only and number <= 0:
            raise invalid(f"'{name}' must be greater than 0.", name)
        return number

    return read


def _weight(name: str, value: Any) -> float:
    number = _number(True, False)(name, value)
    if number is None:
        raise invalid(f"'{name}' must be a number greater than 0.", name)
    return float(number)


def _bounded(integer: bool, low: float, high: float, low_open: bool) -> Callable[[str, Any], Any]:
    """A number from ``low`` (excluded when ``low_open``) to ``high``, or null (the routing's)."""

    def read(name: str, value: Any) -> int | float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise invalid(f"'{name}' must be {'an integer' if integer else 'a number'} or null.", name)
        if value < low or (low_open and value == low) or value > high:
            lower = f"greater than {low:g}" if low_open else f"at least {low:g}"
            raise invalid(f"'{name}' must be {lower} and at most {high:g}; got {value!r}.", name)
        return value if integer else float(value)

    return read


DAY = 86_400.0
BREAKER: dict[str, Callable[[str, Any], Any]] = {
    "breaker_failures": _bounded(True, 0, 1_000_000, False), "breaker_cooldown": _bounded(False, 0, DAY, True),
    "breaker_error_rate": _bounded(False, 0, 1, True), "breaker_window": _bounded(False, 0, DAY, True),
    "breaker_min_calls": _bounded(True, 1, 1_000_000, False),
}
FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "model": _string, "provider": _provider, "upstream_model": _string, "base_url": _url,
    "api_key": lambda n, v: None if v is None else _string(n, v), "headers": _headers, "weight": _weight,
    "priority": _number(False, True), "max_concurrency": _number(True, True), "rpm": _number(True, True),
    "tpm": _number(True, True), "timeout": _number(True, False), **BREAKER,
}
REQUIRED = ("model", "provider")
IMMUTABLE = ("model",)


def read_fields(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The deployment fields of ``body``, checked (each error names its field)."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise invalid(f"Unknown field '{unknown[0]}' (fields: {', '.join(FIELDS)}).", unknown[0])
    if creating:
        for name in REQUIRED:
            if name not in body:
                raise invalid(f"'{name}' is required.", name)
    else:
        for name in IMMUTABLE:
            if name in body:
                raise invalid(f"'{name}' cannot be changed; create a deployment for the other model.", name)
    values = {name: FIELDS[name](name, value) for name, value in body.items()}
    if creating:
        values.setdefault("upstream_model", values["model"])
    return values


def deployment_body(view: DeploymentView) -> dict[str, Any]:
    return {
        "object": "organization.deployment", "id": view.id, "model": view.model, "provider": view.provider,
        "upstream_model": view.upstream_model, "base_url": view.base_url, "redacted_api_key": view.key_hint,
        "weight": view.weight, "priority": view.priority, "max_concurrency": view.max_concurrency,
        "rpm": view.rpm, "tpm": view.tpm, "timeout": view.timeout, "source": view.source,
        "created_at": view.created_at, "breaker_state": view.breaker.value if view.breaker else None,
        **_settings_body(view.settings, "breaker_"),
        "breaker_effective": _settings_body(view.effective, "") if view.effective is not None else None,
    }


def _settings_body(settings: BreakerSettings, prefix: str) -> dict[str, Any]:
    return {prefix + "failures": settings.failures, prefix + "cooldown": settings.cooldown,
            prefix + "error_rate": settings.error_rate, prefix + "window": settings.window,
            prefix + "min_calls": settings.min_calls}


@endpoint(render_error)
async def create_deployment(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    values = read_fields(await read_json(request, MAX_BODY), creating=True)
    return JSONResponse(deployment_body(await services.deployments.create(values)))


@endpoint(render_error)
async def list_deployments(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    after, limit, _ = page_params(request, "asc")
    views = await services.deployments.list_all()
    ids = [v.id for v in views]
    start = ids.index(after) + 1 if after in ids else 0
    page = views[start:start + limit]
    return JSONResponse(list_body([deployment_body(v) for v in page], start + limit < len(views)))


@endpoint(render_error)
async def get_deployment(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    return JSONResponse(deployment_body(await services.deployments.get(request.path_params["deployment_id"])))


@endpoint(render_error)
async def modify_deployment(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    values = read_fields(await read_json(request, MAX_BODY), creating=False)
    view = await services.deployments.update(request.path_params["deployment_id"], values)
    return JSONResponse(deployment_body(view))


@endpoint(render_error)
async def delete_deployment(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    deployment_id = request.path_params["deployment_id"]
    await services.deployments.delete(deployment_id)
    return JSONResponse({"object": "organization.deployment.deleted", "id": deployment_id, "deleted": True})


ROUTES: list[Route] = [
    Route("/v1/organization/deployments", create_deployment, methods=["POST"]),
    Route("/v1/organization/deployments", list_deployments, methods=["GET"]),
    Route("/v1/organization/deployments/{deployment_id:path}", get_deployment, methods=["GET"]),
    Route("/v1/organization/deployments/{deployment_id:path}", modify_deployment, methods=["POST"]),
    Route("/v1/organization/deployments/{deployment_id:path}", delete_deployment, methods=["DELETE"]),
]
