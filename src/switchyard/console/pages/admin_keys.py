"""Admin keys (who may sign in here and call the administration API): list, create
(the secret shown once), delete. Deleting the key of the session in use signs it out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from switchyard.console import forms
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError
from switchyard.surfaces.admin.common import text_field
from switchyard.surfaces.context import Services


async def _page(request: Request, services: Services, session: Session, *, status: int = 200,
                error: str | None = None, created: Any = None) -> Response:
    return render(request, "admin_keys.html", session, status=status, error=error, created=created,
                  keys=await services.organization.list_admin_keys())


@console_page
async def admin_keys(request: Request, services: Services, session: Session) -> Response:
    return await _page(request, services, session)


@console_page
async def create_admin_key(request: Request, services: Services, session: Session) -> Response:
    form = await request.form()
    try:
        name = text_field({"name": forms.text(form, "name")}, "name")
        expires = forms.expiry(form)
        created = await services.organization.create_admin_key(
            name, None if expires is None else datetime.fromtimestamp(expires, UTC))
    except SwitchyardError as failure:
        return await _page(request, services, session, status=400, error=failure.message)
    return await _page(request, services, session, created=created)


@console_page
async def delete_admin_key(request: Request, services: Services, session: Session) -> Response:
    key_id = str(request.path_params["key_id"])
    await services.organization.delete_admin_key(key_id)
    if key_id == session.principal.key_id:
        return RedirectResponse("/console/login", status_code=303)
    return RedirectResponse("/console/admin-keys", status_code=303)


ROUTES = [
    Route("/admin-keys", admin_keys, methods=["GET"]),
    Route("/admin-keys", create_admin_key, methods=["POST"]),
    Route("/admin-keys/{key_id}/delete", delete_admin_key, methods=["POST"]),
]
