"""Who belongs to a project: its members (organization users, with a project role) and
its service accounts (a bot identity with its own key, the secret shown once)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.console import forms
from switchyard.console.pages.projects import project_page
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError
from switchyard.surfaces.admin.common import choice_field, text_field
from switchyard.surfaces.admin.users import PROJECT_ROLES
from switchyard.surfaces.context import Services


def _project(request: Request) -> str:
    return str(request.path_params["project_id"])


@console_page
async def add_member(request: Request, services: Services, session: Session) -> Response:
    project_id = _project(request)
    form = await request.form()
    try:
        body = {"email": forms.text(form, "email"), "role": forms.text(form, "role") or "member"}
        member = await services.organization.add_member(project_id, None, text_field(body, "email"),
                                                        choice_field(body, "role", PROJECT_ROLES))
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message)
    return await project_page(request, services, session, project_id,
                              notice=f"{member.user.email} is now a project {member.role}.")


@console_page
async def set_member_role(request: Request, services: Services, session: Session) -> Response:
    project_id = _project(request)
    try:
        role = choice_field({"role": forms.text(await request.form(), "role")}, "role", PROJECT_ROLES)
        member = await services.organization.set_member_role(project_id, str(request.path_params["user_id"]), role)
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message)
    return await project_page(request, services, session, project_id,
                              notice=f"{member.user.email} is now a project {member.role}.")


@console_page
async def remove_member(request: Request, services: Services, session: Session) -> Response:
    project_id = _project(request)
    await services.organization.remove_member(project_id, str(request.path_params["user_id"]))
    return await project_page(request, services, session, project_id, notice="Member removed.")


@console_page
async def create_service_account(request: Request, services: Services, session: Session) -> Response:
    project_id = _project(request)
    form = await request.form()
    try:
        name = text_field({"name": forms.text(form, "name")}, "name")
        account, key = await services.organization.create_service_account(project_id, name, with_key=True)
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message)
    return await project_page(request, services, session, project_id, created=key,
                              notice=f"Service account {account.name} created. Copy its secret now: "
                                     "it is not shown again.")


@console_page
async def delete_service_account(request: Request, services: Services, session: Session) -> Response:
    project_id = _project(request)
    await services.organization.delete_service_account(project_id, str(request.path_params["account_id"]))
    return await project_page(request, services, session, project_id,
                              notice="Service account deleted: its key no longer works.")


_P = "/projects/{project_id}"
ROUTES = [
    Route(_P + "/members", add_member, methods=["POST"]),
    Route(_P + "/members/{user_id}/role", set_member_role, methods=["POST"]),
    Route(_P + "/members/{user_id}/delete", remove_member, methods=["POST"]),
    Route(_P + "/service_accounts", create_service_account, methods=["POST"]),
    Route(_P + "/service_accounts/{account_id}/delete", delete_service_account, methods=["POST"]),
]
