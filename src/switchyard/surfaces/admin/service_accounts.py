"""``/v1/organization/projects/{project_id}/service_accounts``: creating one also
creates its first API key (unless ``create_service_account_only``), whose secret is
in ``api_key.value``, shown once; deleting one revokes its keys."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.gateway.auth import Principal
from switchyard.store.keys import KeySettings
from switchyard.store.service_accounts import ServiceAccountRecord
from switchyard.surfaces.admin.api_keys import SETTING_FIELDS, key_settings
from switchyard.surfaces.admin.common import (
    admin_endpoint,
    bool_field,
    choice_field,
    delete_handler,
    list_handler,
    object_handler,
    object_routes,
    path_ids,
    refuse_unknown,
    strings_field,
    text_field,
    unix,
)
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.tenancy.service import NewKey

PREFIX = "/v1/organization/projects/{project_id}/service_accounts"


def account_object(account: ServiceAccountRecord) -> dict[str, Any]:
    return {"object": "organization.project.service_account", "id": account.id, "name": account.name,
            "role": account.role, "created_at": unix(account.created_at)}


def new_key_object(key: NewKey) -> dict[str, Any]:
    return {"object": "organization.project.service_account.api_key", "value": key.secret,
            "name": key.record.name, "created_at": unix(key.record.created_at), "id": key.record.id}


IDS = ("project_id", "service_account_id")


list_accounts = list_handler(IDS[:1], lambda s: s.organization.list_service_accounts, lambda a: a.id,
                             account_object)


@admin_endpoint
async def create_account(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("name", "create_service_account_only", "expires_in_seconds"))
    name = text_field(body, "name")
    only = bool_field(body, "create_service_account_only", False) or False
    settings = key_settings({k: v for k, v in body.items() if k == "expires_in_seconds"}, KeySettings())
    account, key = await services.organization.create_service_account(
        str(request.path_params["project_id"]), name, with_key=not only, settings=settings)
    return JSONResponse({**account_object(account), "api_key": None if key is None else new_key_object(key)})


get_account = object_handler(IDS, lambda s: s.organization.service_account, account_object)


@admin_endpoint
async def update_account(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("name", "role"))
    name = text_field(body, "name", None, nullable=True)
    role = choice_field(body, "role", ("member", "owner"), None)
    project_id, account_id = path_ids(request, IDS)
    return JSONResponse(account_object(
        await services.organization.update_service_account(project_id, account_id, name, role)))


delete_account = delete_handler(IDS, lambda s: s.organization.delete_service_account,
                                "organization.project.service_account.deleted")


@admin_endpoint
async def create_account_key(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes, allow_empty=True)
    refuse_unknown(body, ("name", "scopes", *SETTING_FIELDS))
    strings_field(body, "scopes")
    project_id, account_id = path_ids(request, IDS)
    await services.organization.service_account(project_id, account_id)
    key = await services.organization.create_key(
        project_id, text_field(body, "name", "Secret key"), key_settings(body, KeySettings()), account_id)
    return JSONResponse(new_key_object(key))


ROUTES: list[Route] = [
    *object_routes(PREFIX, "service_account_id", listing=list_accounts, create=create_account, get=get_account,
                   update=update_account, delete=delete_account),
    Route(PREFIX + "/{service_account_id}/api_keys", create_account_key, methods=["POST"]),
]
