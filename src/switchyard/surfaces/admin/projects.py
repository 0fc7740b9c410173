"""``/v1/organization/projects``: projects, archiving, and each project's model
permissions, spend limit and per-model rate limits (OpenAI's shapes). Switchyard
extension: project-wide limits (``max_requests_per_1_minute``, ``max_tokens_per_1_minute``,
``max_concurrent_requests``) on the project object, set with ``POST .../{project_id}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.store.projects import ProjectRecord, RateLimitRecord
from switchyard.surfaces.admin.common import (
    MISSING,
    PROJECT,
    admin_endpoint,
    cents_field,
    cents_out,
    choice_field,
    count_field,
    flag_query,
    object_handler,
    object_routes,
    paged,
    project_update_handler,
    refuse_unknown,
    strings_field,
    text_field,
    unix,
)
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.tenancy.service import rate_limit_id

PREFIX = "/v1/organization/projects"
LIMIT_FIELDS = {  # wire name -> stored name
    "max_requests_per_1_minute": "rpm_limit",
    "max_tokens_per_1_minute": "tpm_limit",
    "max_concurrent_requests": "concurrency_limit",
}


def project_object(project: ProjectRecord) -> dict[str, Any]:
    return {
        "id": project.id, "object": "organization.project", "name": project.name,
        "created_at": unix(project.created_at), "archived_at": unix(project.archived_at),
        "status": "archived" if project.archived else "active", "external_key_id": project.external_key_id,
        **{wire: getattr(project, stored) for wire, stored in LIMIT_FIELDS.items()},
    }


def limit_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The limit fields present in ``body``, by stored name (null clears a limit)."""
    changes: dict[str, Any] = {}
    for wire, stored in LIMIT_FIELDS.items():
        value = count_field(body, wire)
        if value is not MISSING:
            changes[stored] = value
    return changes


def _project_id(request: Request) -> str:
    return str(request.path_params["project_id"])


@admin_endpoint
async def list_projects(request: Request, services: Services, principal: Principal) -> Response:
    projects = await services.organization.list_projects(flag_query(request, "include_archived"))
    return paged(request, projects, lambda p: p.id, project_object)


@admin_endpoint
async def create_project(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("name", "external_key_id", "residency", "geography", *LIMIT_FIELDS))
    name = text_field(body, "name")
    choice_field(body, "residency", ("GLOBAL", None), None)
    choice_field(body, "geography", (None,), None)  # one deployment: no data residency choices
    project = await services.organization.create_project(name, text_field(body, "external_key_id", None,
                                                                           nullable=True))
    changes = limit_changes(body)
    if changes:
        project = await services.organization.update_project(project.id, changes)
    return JSONResponse(project_object(project))


get_project = object_handler(PROJECT, lambda s: s.organization.project, project_object)


@admin_endpoint
async def update_project(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("name", "external_key_id", "geography", *LIMIT_FIELDS))
    choice_field(body, "geography", (None,), None)
    changes = limit_changes(body)
    if body.get("name") is not None:
        changes["name"] = text_field(body, "name")
    external = text_field(body, "external_key_id", MISSING, nullable=True)
    if external is not MISSING:
        changes["external_key_id"] = external
    project_id = _project_id(request)
    await services.organization.project(project_id)
    return JSONResponse(project_object(await services.organization.update_project(project_id, changes)))


archive_project = object_handler(PROJECT, lambda s: s.organization.archive_project, project_object)


# model permissions: OpenAI's allow_list / deny_list per project


def _permissions(project: ProjectRecord) -> dict[str, Any]:
    return {"object": "project.model_permissions", "mode": project.model_mode or "deny_list",
            "model_ids": list(project.model_ids)}


get_model_permissions = object_handler(PROJECT, lambda s: s.organization.project, _permissions)


@admin_endpoint
async def set_model_permissions(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("mode", "model_ids"))
    mode = choice_field(body, "mode", ("allow_list", "deny_list"))
    if mode is MISSING:
        raise invalid("'mode' is required: 'allow_list' or 'deny_list'.", "mode")
    model_ids = strings_field(body, "model_ids", nullable=False)
    if model_ids is MISSING:
        raise invalid("'model_ids' is required.", "model_ids")
    project = await services.organization.update_project(_project_id(request),
                                                         {"model_mode": mode, "model_ids": model_ids})
    return JSONResponse(_permissions(project))


delete_model_permissions = project_update_handler(
    {"model_mode": None, "model_ids": None}, lambda _: {"object": "project.model_permissions.deleted", "deleted": True})


# spend limit: the project's budget (metering enforces it); intervals "day" and "total" are extensions


def _spend_limit(project: ProjectRecord) -> dict[str, Any]:
    if project.budget_usd is None:
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"The project '{project.id}' has no spend limit.",
                              code="not_found")
    return {"object": "project.spend_limit", "threshold_amount": cents_out(project.budget_usd),
            "currency": "USD", "interval": project.budget_interval, "enforcement": {"status": "enforcing"}}


get_spend_limit = object_handler(PROJECT, lambda s: s.organization.project, _spend_limit)


@admin_endpoint
async def set_spend_limit(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("threshold_amount", "currency", "interval"))
    amount = cents_field(body, "threshold_amount")
    choice_field(body, "currency", ("USD",))
    interval = choice_field(body, "interval", ("month", "day", "total"), "month")
    project = await services.organization.update_project(
        _project_id(request), {"budget_usd": amount, "budget_interval": interval})
    return JSONResponse(_spend_limit(project))


delete_spend_limit = project_update_handler(
    {"budget_usd": None, "budget_interval": None}, lambda _: {"object": "project.spend_limit.deleted", "deleted": True})


# per-model rate limits


def _served_models(services: Services) -> list[str]:
    return [m.name for m in services.settings.models]


def _rate_limit(record: RateLimitRecord) -> dict[str, Any]:
    """OpenAI's limits are integers: 0 here means no limit is set."""
    return {"object": "project.rate_limit", "id": rate_limit_id(record.model), "model": record.model,
            "max_requests_per_1_minute": record.rpm_limit or 0, "max_tokens_per_1_minute": record.tpm_limit or 0,
            "max_concurrent_requests": record.concurrency_limit or 0}


def _rate_limit_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The limits in ``body``; 0 or null clears one."""
    changes: dict[str, Any] = {}
    for wire, stored in LIMIT_FIELDS.items():
        value = count_field(body, wire, minimum=0)
        if value is not MISSING:
            changes[stored] = value or None
    return changes


@admin_endpoint
async def list_rate_limits(request: Request, services: Services, principal: Principal) -> Response:
    limits = await services.organization.rate_limits(_project_id(request), _served_models(services))
    return paged(request, limits, lambda r: rate_limit_id(r.model), _rate_limit, default_limit=100)


@admin_endpoint
async def update_rate_limit(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    for unsupported in ("max_images_per_1_minute", "max_audio_megabytes_per_1_minute",
                        "max_requests_per_1_day", "batch_1_day_max_input_tokens"):
        if unsupported in body:
            raise invalid(f"'{unsupported}' is not supported by Switchyard.", unsupported, "unsupported_parameter")
    refuse_unknown(body, tuple(LIMIT_FIELDS))
    record = await services.organization.update_rate_limit(
        _project_id(request), str(request.path_params["rate_limit_id"]), _served_models(services),
        _rate_limit_changes(body))
    return JSONResponse(_rate_limit(record))


ROUTES: list[Route] = [
    *object_routes(PREFIX, "project_id", listing=list_projects, create=create_project, get=get_project,
                   update=update_project),
    Route(PREFIX + "/{project_id}/archive", archive_project, methods=["POST"]),
    Route(PREFIX + "/{project_id}/model_permissions", get_model_permissions, methods=["GET"]),
    Route(PREFIX + "/{project_id}/model_permissions", set_model_permissions, methods=["POST"]),
    Route(PREFIX + "/{project_id}/model_permissions", delete_model_permissions, methods=["DELETE"]),
    Route(PREFIX + "/{project_id}/spend_limit", get_spend_limit, methods=["GET"]),
    Route(PREFIX + "/{project_id}/spend_limit", set_spend_limit, methods=["POST"]),
    Route(PREFIX + "/{project_id}/spend_limit", delete_spend_limit, methods=["DELETE"]),
    Route(PREFIX + "/{project_id}/rate_limits", list_rate_limits, methods=["GET"]),
    Route(PREFIX + "/{project_id}/rate_limits/{rate_limit_id:path}", update_rate_limit, methods=["POST"]),
]
