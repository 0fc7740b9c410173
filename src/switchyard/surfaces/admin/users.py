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
    delete_handler,
    list_handler,
    object_handler,
    object_routes,
    paged,
    path_ids,
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


get_user = object_handler(("user_id",), lambda s: s.organization.user, user_object)


@admin_endpoint
async def update_user(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("role",))
    user = await services.organization.set_user_role(str(request.path_params["user_id"]),
                                                     _required_role(body, ORG_ROLES))
    return JSONResponse(user_object(user))


delete_user = delete_handler(("user_id",), lambda s: s.organization.delete_user, "organization.user.deleted")
MEMBER_IDS = ("project_id", "user_id")
list_members = list_handler(MEMBER_IDS[:1], lambda s: s.organization.members, lambda m: m.user.id, member_object)


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


get_member = object_handler(MEMBER_IDS, lambda s: s.organization.member, member_object)


@admin_endpoint
async def update_member(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("role",))
    project_id, user_id = path_ids(request, MEMBER_IDS)
    member = await services.organization.set_member_role(project_id, user_id, _required_role(body, PROJECT_ROLES))
    return JSONResponse(member_object(member))


remove_member = delete_handler(MEMBER_IDS, lambda s: s.organization.remove_member,
                               "organization.project.user.deleted")


ROUTES: list[Route] = [
    *object_routes(ORG, "user_id", listing=list_users, create=create_user, get=get_user, update=update_user,
                   delete=delete_user),
    *object_routes(PROJECT, "user_id", listing=list_members, create=add_member, get=get_member,
                   update=update_member, delete=remove_member),
]
