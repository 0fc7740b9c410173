"""The organization's users: list, add (email, name, role), change a role, remove. The
forms are read into the administration API's body shape and checked by its own field
rules, so an error names the same field the API would."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from switchyard.console import forms
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError, invalid
from switchyard.surfaces.admin.common import choice_field, text_field
from switchyard.surfaces.admin.users import ORG_ROLES
from switchyard.surfaces.context import Services


async def _page(request: Request, services: Services, session: Session, *, status: int = 200,
                error: str | None = None, notice: str | None = None) -> Response:
    return render(request, "users.html", session, status=status, error=error, notice=notice,
                  users=await services.organization.list_users(), roles=ORG_ROLES)


@console_page
async def list_users(request: Request, services: Services, session: Session) -> Response:
    return await _page(request, services, session)


@console_page
async def create_user(request: Request, services: Services, session: Session) -> Response:
    form = await request.form()
    body = {"email": forms.text(form, "email"), "name": forms.text(form, "name") or None,
            "role": forms.text(form, "role") or "reader"}
    try:
        email = text_field(body, "email")
        if "@" not in email:
            raise invalid("'email' must be an email address.", "email")
        user = await services.organization.create_user(email, body["name"], choice_field(body, "role", ORG_ROLES))
    except SwitchyardError as failure:
        return await _page(request, services, session, status=400, error=failure.message)
    return await _page(request, services, session, notice=f"{user.email} added.")


@console_page
async def set_role(request: Request, services: Services, session: Session) -> Response:
    form = await request.form()
    try:
        role = choice_field({"role": forms.text(form, "role")}, "role", ORG_ROLES)
        user = await services.organization.set_user_role(str(request.path_params["user_id"]), role)
    except SwitchyardError as failure:
        return await _page(request, services, session, status=400, error=failure.message)
    return await _page(request, services, session, notice=f"{user.email} is now {user.role}.")


@console_page
async def delete_user(request: Request, services: Services, session: Session) -> Response:
    await services.organization.delete_user(str(request.path_params["user_id"]))
    return RedirectResponse("/console/users", status_code=303)


ROUTES = [
    Route("/users", list_users, methods=["GET"]),
    Route("/users", create_user, methods=["POST"]),
    Route("/users/{user_id}/role", set_role, methods=["POST"]),
    Route("/users/{user_id}/delete", delete_user, methods=["POST"]),
]
