"""Project API keys: create (the secret shown once), edit settings, disable, delete,
and each key's usage (spend, requests by day, recent ledger entries)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from switchyard.console import forms
from switchyard.console.pages.projects import project_page
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError
from switchyard.gateway.prices import nano_to_usd
from switchyard.gateway.usage_report import UsageQuery
from switchyard.store.budgets import key_holder
from switchyard.store.keys import KeySettings
from switchyard.store.ledger import LedgerFilter
from switchyard.surfaces.admin.api_keys import key_settings
from switchyard.surfaces.admin.common import text_field
from switchyard.surfaces.context import Services

DAY = 86400


def _ids(request: Request) -> tuple[str, str]:
    return str(request.path_params["project_id"]), str(request.path_params["key_id"])


@console_page
async def create_key(request: Request, services: Services, session: Session) -> Response:
    project_id = str(request.path_params["project_id"])
    form = await request.form()
    try:
        await services.organization.active_project(project_id)
        name = text_field({"name": forms.text(form, "name") or "Secret key"}, "name")
        created = await services.organization.create_key(project_id, name,
                                                         key_settings(forms.key_body(form), KeySettings()))
    except SwitchyardError as failure:
        return await project_page(request, services, session, project_id, status=400, error=failure.message,
                                  key_draft=dict(form))
    return await project_page(request, services, session, project_id, created=created,
                              notice="Key created. Copy the secret now: it is not shown again.")


async def daily_usage(services: Services, key_id: str, days: int = 14) -> dict[str, Any]:
    """Requests, tokens and cost per UTC day for the chart."""
    end = (int(time.time()) // DAY + 1) * DAY
    query = UsageQuery(start_time=end - days * DAY, end_time=end, bucket_width="1d", limit=days,
                       api_key_ids=(key_id,))
    usage = await services.metering.usage("completions", query)
    costs = await services.metering.usage("costs", query)
    labels = [time.strftime("%m-%d", time.gmtime(b["start_time"])) for b in usage["data"]]
    return {
        "labels": labels,
        "requests": [sum(r["num_model_requests"] for r in b["results"]) for b in usage["data"]],
        "tokens": [sum(r["input_tokens"] + r["output_tokens"] for r in b["results"]) for b in usage["data"]],
        "cost": [sum(r["amount"]["value"] for r in b["results"]) for b in costs["data"]],
    }


async def key_page(request: Request, services: Services, session: Session, *, status: int = 200,
                   error: str | None = None, notice: str | None = None,
                   draft: dict[str, Any] | None = None) -> Response:
    project_id, key_id = _ids(request)
    record = await services.organization.key(project_id, key_id)
    spend = await services.metering.spend(key_holder(key_id))
    entries, _ = await services.metering.entries(LedgerFilter(api_key_ids=(key_id,)), limit=20, after=None)
    return render(request, "key.html", session, status=status, error=error, notice=notice, draft=draft, key=record,
                  project=await services.organization.project(project_id), entries=entries,
                  spent=nano_to_usd(spend.spent_nanousd), usage=await daily_usage(services, key_id))


@console_page
async def show_key(request: Request, services: Services, session: Session) -> Response:
    return await key_page(request, services, session)


@console_page
async def update_key(request: Request, services: Services, session: Session) -> Response:
    project_id, key_id = _ids(request)
    current = await services.organization.key(project_id, key_id)
    form = await request.form()
    try:
        name = text_field({"name": forms.text(form, "name")}, "name")
        settings = key_settings(forms.key_body(form), current.settings)
        await services.organization.update_key(project_id, key_id, name, settings)
    except SwitchyardError as failure:
        return await key_page(request, services, session, status=400, error=failure.message, draft=dict(form))
    return await key_page(request, services, session, notice="Key saved.")


@console_page
async def set_enabled(request: Request, services: Services, session: Session) -> Response:
    project_id, key_id = _ids(request)
    current = await services.organization.key(project_id, key_id)
    enabled = forms.text(await request.form(), "enabled") == "true"
    await services.organization.update_key(project_id, key_id, current.name,
                                           key_settings({"enabled": enabled}, current.settings))
    return await key_page(request, services, session, notice="Key enabled." if enabled else "Key disabled.")


@console_page
async def delete_key(request: Request, services: Services, session: Session) -> Response:
    project_id, key_id = _ids(request)
    await services.organization.delete_key(project_id, key_id)
    return RedirectResponse(f"/console/projects/{project_id}?deleted={key_id}", status_code=303)
