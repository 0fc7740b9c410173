"""``/v1/organization/users`` and ``/v1/organization/projects/{project_id}/users``.
Switchyard has no sign-in, so users are records: ``POST /v1/organization/users``
(an extension; OpenAI invites people instead) adds one directly."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal
from switchyard.store.users import MemberRecord, UserRecord
from switchyard.surfaces.admin.common import (
    MISSING,
    admin_endpoint,
    choice_field,
    deleted,
    paged,
    refuse_unknown,
    text_field,
    unix,
)
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import JSONResponse, read_json

ORG = "/v1/organization/users"
PROJECT = "/v1/organization/projects/{project_id}/users"
ORG_ROLES = ("owner", "reader")
PROJECT_ROLES = ("owner", "member")


def user_object(user: UserRecord) -> dict[str, Any]:
    return {"object": "organization.user", "id": user.id, "name": user.name, "email": user.email,
            "role": user.role, "added_at": unix(user.added_at)}


def member_object(member: MemberRecord) -> dict[str, Any]:
    return {"object": "organization.project.user", "id": member.user.id, "name": member.user.name,
            "email": member.user.email, "role": member.role, "added_at": unix(member.added_at)}


def _required_role(body: dict[str, Any], roles: tuple[str, ...]) -> str:
    role = choice_field(body, "role", roles)
    if role is MISSING:
        raise invalid(f"'role' is required: one of {', '.join(roles)}.", "role")
    return str(role)


@admin_endpoint
async def list_users(request: Request, services: Services, principal: Principal) -> Response:
    emails = request.query_params.getlist("emails") + request.query_params.getlist("emails[]")
    users = await services.organization.list_users(emails or None)
    return paged(request, users, lambda u: u.id, user_object)


@admin_endpoint
async def create_user(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("email", "name", "role"))
    email = text_field(body, "email")
    if "@" not in email:
        raise invalid("'email' must be an email address.", "email")
    user = await services.organization.create_user(email, text_field(body, "name", None, nullable=True),
                                                   choice_field(body, "role", ORG_ROLES, "reader"))
    return JSONResponse(user_object(user))


@admin_endpoint
async def get_user(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(user_object(await services.organization.user(str(request.path_params["user_id"]))))


@admin_endpoint
async def update_user(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("role",))
    user = await services.organization.set_user_role(str(request.path_params["user_id"]),
                                                     _required_role(body, ORG_ROLES))
    return JSONResponse(user_object(user))


@admin_endpoint
async def delete_user(request: Request, services: Services, principal: Principal) -> Response:
    user_id = str(request.path_params["user_id"])
    await services.organization.delete_user(user_id)
    return deleted("organization.user.deleted", user_id)


def _member_ids(request: Request) -> tuple[str, str]:
    return str(request.path_params["project_id"]), str(request.path_params["user_id"])


@admin_endpoint
async def list_members(request: Request, services: Services, principal: Principal) -> Response:
    members = await services.organization.members(str(request.path_params["project_id"]))
    return paged(request, members, lambda m: m.user.id, member_object)


@admin_endpoint
async def add_member(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("user_id", "email", "role"))
    user_id = text_field(body, "user_id", None, nullable=True)
    email = text_field(body, "email", None, nullable=True)
    if user_id is None and email is None:
        raise invalid("Give 'user_id' (or 'email') of the user to add.", "user_id")
    member = await services.organization.add_member(str(request.path_params["project_id"]), user_id, email,
                                                    _required_role(body, PROJECT_ROLES))
    return JSONResponse(member_object(member))


@admin_endpoint
async def get_member(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(member_object(await services.organization.member(*_member_ids(request))))


@admin_endpoint
async def update_member(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("role",))
    member = await services.organization.set_member_role(*_member_ids(request), _required_role(body, PROJECT_ROLES))
    return JSONResponse(member_object(member))


@admin_endpoint
async def remove_member(request: Request, services: Services, principal: Principal) -> Response:
    project_id, user_id = _member_ids(request)
    await services.organization.remove_member(project_id, user_id)
    return deleted("organization.project.user.deleted", user_id)


ROUTES: list[Route] = [
    Route(ORG, list_users, methods=["GET"]),
    Route(ORG, create_user, methods=["POST"]),
    Route(ORG + "/{user_id}", get_user, methods=["GET"]),
    Route(ORG + "/{user_id}", update_user, methods=["POST"]),
    Route(ORG + "/{user_id}", delete_user, methods=["DELETE"]),
    Route(PROJECT, list_members, methods=["GET"]),
    Route(PROJECT, add_member, methods=["POST"]),
    Route(PROJECT + "/{user_id}", get_member, methods=["GET"]),
    Route(PROJECT + "/{user_id}", update_member, methods=["POST"]),
    Route(PROJECT + "/{user_id}", remove_member, methods=["DELETE"]),
]
