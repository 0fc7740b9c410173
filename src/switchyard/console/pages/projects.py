"""Projects: list, create, edit limits, budget and model permissions, archive."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from switchyard.console import forms
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError, invalid
from switchyard.gateway.prices import nano_to_usd
from switchyard.store.budgets import project_holder
from switchyard.surfaces.admin.common import cents_field, text_field
from switchyard.surfaces.admin.projects import limit_changes
from switchyard.surfaces.admin.users import PROJECT_ROLES
from switchyard.surfaces.context import Services
from switchyard.tenancy.service import rate_limit_id


@console_page
async def list_projects(request: Request, services: Services, session: Session) -> Response:
    return await _projects(request, services, session)


async def _projects(request: Request, services: Services, session: Session, status: int = 200,
                    error: str | None = None) -> Response:
    projects = await services.organization.list_projects(include_archived=True)
    return render(request, "projects.html", session, status=status, error=error, projects=projects)


@console_page
async def create_project(request: Request, services: Services, session: Session) -> Response:
    form = await request.form()
    try:
        name = text_field({"name": forms.text(form, "name")}, "name")
        project = await services.organization.create_project(name)
        changes = limit_changes(forms.limits(form))
        if changes:
            await services.organization.update_project(project.id, changes)
    except SwitchyardError as failure:
        return await _projects(request, services, session, 400, failure.message)
    return RedirectResponse(f"/console/projects/{project.id}", status_code=303)


async def project_page(request: Request, services: Services, session: Session, project_id: str, *,
                       status: int = 200, error: str | None = None, notice: str | None = None,
                       created: Any = None, key_draft: dict[str, Any] | None = None,
                       project_draft: dict[str, Any] | None = None) -> Response:
    project = await services.organization.project(project_id)
    keys = await services.organization.list_keys(project_id)
    spend = await services.metering.spend(project_holder(project_id))
    model_limits = await services.organization.rate_limits(project_id, _served(services))
    members = await services.organization.members(project_id)
    accounts = await services.organization.list_service_accounts(project_id)
    return render(request, "project.html", session, model_limits=model_limits, status=status, error=error,
                  members=members, accounts=accounts, member_roles=PROJECT_ROLES,
                  notice=notice, project=project,
                  keys=keys, spent=nano_to_usd(spend.spent_nanousd), created=created, draft=key_draft,
                  project_draft=project_draft)


@console_page
async def show_project(request: Request, services: Services, session: Session) -> Response:
    return await project_page(request, services, session, str(request.path_params["project_id"]))


def _project_changes(form: Any) -> dict[str, Any]:
    changes = limit_changes(forms.limits(form))
    changes["name"] = text_field({"name": forms.text(form, "name")}, "name")
    amount = forms.cents(form, "budget_usd")
    interval = forms.text(form, "budget_interval") or "month"
    if interval not in ("month", "day", "total"):
        raise invalid("'budget_interval' must be 'month', 'day' or 'total'.", "budget_interval")
    changes["budget_usd"] = None if amount is None else cents_field({"threshold_amount": amount},
                                                                    "threshold_amount")
    changes["budget_interval"] = None if amount is None else interval
    models = forms.listed(form, "model_ids")
    mode = forms.text(form, "model_mode")
    if mode not in ("allow_list", "deny_list"):
        raise invalid("'model_mode' must be 'allow_list' or 'deny_list'.", "model_mode")
    changes["model_mode"] = None if models is None else mode
    changes["model_ids"] = None if models is None else tuple(models)
    return changes


@console_page
async def update_project(request: Request, services: Services, session: Session) -> Response:
    project_id = str(request.path_params["project_id"])
    await services.organization.project(project_id)
    form = await request.form()
    try:
        await services.organization.update_project(project_id, _project_changes(form))
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message,
                                  project_draft=dict(form))
    return await project_page(request, services, session, project_id, notice="Project saved.")


@console_page
async def archive_project(request: Request, services: Services, session: Session) -> Response:
    project_id = str(request.path_params["project_id"])
    try:
        await services.organization.archive_project(project_id)
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message)
    return await project_page(request, services, session, project_id,
                              notice="Project archived: its keys no longer work.")


def _served(services: Services) -> list[str]:
    return [m.name for m in services.settings.models]


@console_page
async def update_model_limit(request: Request, services: Services, session: Session) -> Response:
    project_id, model = str(request.path_params["project_id"]), str(request.path_params["model"])
    try:
        changes = limit_changes(forms.limits(await request.form()))
        await services.organization.update_rate_limit(project_id, rate_limit_id(model), _served(services), changes)
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message)
    return await project_page(request, services, session, project_id, notice=f"Limits for {model} saved.")
