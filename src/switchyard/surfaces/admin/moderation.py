"""``/v1/organization/projects/{project_id}/moderation``: a project's moderation guardrail
(Switchyard extension, in the shape of the other per-project settings). ``mode`` is
``flag``, ``block`` or ``log`` (on input); ``output_mode`` the same on model output (null or
absent: output is not screened); ``model`` a moderation model (null: the first configured);
``categories`` the categories that count (null: any). DELETE turns the guardrail off."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.core.moderation import CATEGORIES
from switchyard.gateway.auth import Principal
from switchyard.store.projects import ProjectRecord
from switchyard.surfaces.admin.common import (
    MISSING,
    PROJECT,
    admin_endpoint,
    choice_field,
    object_handler,
    project_update_handler,
    refuse_unknown,
    strings_field,
)
from switchyard.surfaces.admin.common import text_field as name_field
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import JSONResponse, read_json

PATH = "/v1/organization/projects/{project_id}/moderation"
MODES = ("flag", "block", "log")


def guardrail_object(project: ProjectRecord) -> dict[str, Any]:
    return {"object": "project.moderation", "project_id": project.id, "enabled": project.moderation_mode is not None,
            "mode": project.moderation_mode, "output_mode": project.moderation_output_mode,
            "model": project.moderation_model,
            "categories": None if project.moderation_categories is None else list(project.moderation_categories)}


get_guardrail = object_handler(PROJECT, lambda s: s.organization.project, guardrail_object)


@admin_endpoint
async def set_guardrail(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("mode", "output_mode", "model", "categories"))
    mode = choice_field(body, "mode", MODES)
    if mode is MISSING:
        raise invalid("'mode' is required: 'flag', 'block' or 'log'.", "mode")
    output_mode = choice_field(body, "output_mode", (*MODES, None), None)
    model = name_field(body, "model", None, nullable=True)
    if model is not None:
        services.moderation.config(model)  # a 400/404 naming 'model' now, not on every call later
    categories = strings_field(body, "categories", None)
    for index, category in enumerate(categories or ()):
        if category not in CATEGORIES:
            raise invalid(f"'categories[{index}]' must be one of {', '.join(CATEGORIES)}; got '{category}'.",
                          f"categories[{index}]")
    project = await services.organization.update_project(
        str(request.path_params["project_id"]),
        {"moderation_mode": mode, "moderation_model": model, "moderation_categories": categories,
         "moderation_output_mode": output_mode})
    return JSONResponse(guardrail_object(project))


delete_guardrail = project_update_handler(
    {"moderation_mode": None, "moderation_model": None, "moderation_categories": None,
     "moderation_output_mode": None}, guardrail_object)


ROUTES: list[Route] = [
    Route(PATH, get_guardrail, methods=["GET"]),
    Route(PATH, set_guardrail, methods=["POST"]),
    Route(PATH, delete_guardrail, methods=["DELETE"]),
]
