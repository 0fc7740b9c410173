"""Models and deployments: the routing table (weights, priorities, limits, breaker
state, recent error rate and latency), prices, a button that tests a model with one
small request through its public surface, and deployments added, tuned and removed
(those from the config file are read-only)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.console import forms, stats
from switchyard.console.loopback import call
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError
from switchyard.gateway.auth import DEFAULT_PROJECT
from switchyard.store.ledger import LedgerFilter
from switchyard.surfaces.admin.deployments import PROVIDERS, read_fields
from switchyard.surfaces.context import Services


@console_page
async def models_page(request: Request, services: Services, session: Session) -> Response:
    return await _page(request, services, session)


async def _page(request: Request, services: Services, session: Session, *, status: int = 200,
                error: str | None = None, notice: str | None = None) -> Response:
    deployments = await services.deployments.list_all()
    entries, _ = await services.metering.entries(LedgerFilter(since=int(time.time()) - 86400), limit=1000,
                                                 after=None)
    return render(request, "models.html", session, status=status, error=error, notice=notice,
                  models=services.settings.models, deployments=deployments, providers=PROVIDERS,
                  health=stats.deployment_health(entries))


@console_page
async def create_deployment(request: Request, services: Services, session: Session) -> Response:
    try:
        values = read_fields(forms.deployment_body(await request.form(), creating=True), creating=True)
        view = await services.deployments.create(values)
    except SwitchyardError as failure:
        return await _page(request, services, session, status=400, error=failure.message)
    return await _page(request, services, session, notice=f"Deployment {view.id} added to {view.model}.")


@console_page
async def update_deployment(request: Request, services: Services, session: Session) -> Response:
    deployment_id = str(request.path_params["deployment_id"])
    try:
        values = read_fields(forms.deployment_body(await request.form(), creating=False), creating=False)
        await services.deployments.update(deployment_id, values)
    except SwitchyardError as failure:
        return await _page(request, services, session, status=400, error=failure.message)
    return await _page(request, services, session, notice=f"Deployment {deployment_id} saved.")


@console_page
async def delete_deployment(request: Request, services: Services, session: Session) -> Response:
    deployment_id = str(request.path_params["deployment_id"])
    try:
        await services.deployments.delete(deployment_id)
    except SwitchyardError as failure:
        return await _page(request, services, session, status=400, error=failure.message)
    return await _page(request, services, session, notice=f"Deployment {deployment_id} removed.")


@console_page
async def test_model(request: Request, services: Services, session: Session) -> Response:
    model = str((await request.form()).get("model", ""))
    started = time.perf_counter()
    status, body = await call(request, DEFAULT_PROJECT, "POST", "/v1/chat/completions", json={
        "model": model, "max_completion_tokens": 16,
        "messages": [{"role": "user", "content": "Reply with the single word: ready"}]})
    elapsed = int((time.perf_counter() - started) * 1000)
    if status == 200 and isinstance(body, dict):
        reply = (body.get("choices") or [{}])[0].get("message", {}).get("content") or ""
        result = {"ok": True, "text": reply, "served_by": body.get("model")}
    else:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        result = {"ok": False, "text": error.get("message") or str(body), "served_by": None}
    return render(request, "_model_test.html", session, model=model, answered=status, elapsed=elapsed, **result)


@console_page
async def probe_deployment(request: Request, services: Services, session: Session) -> Response:
    result = await services.deployments.probe(str(request.path_params["deployment_id"]))
    return render(request, "_probe.html", session, result=result)


ROUTES = [
    Route("/models", models_page, methods=["GET"]),
    Route("/models/test", test_model, methods=["POST"]),
    Route("/models/deployments", create_deployment, methods=["POST"]),
    Route("/models/deployments/{deployment_id:path}/probe", probe_deployment, methods=["POST"]),
    Route("/models/deployments/{deployment_id:path}/delete", delete_deployment, methods=["POST"]),
    Route("/models/deployments/{deployment_id:path}", update_deployment, methods=["POST"]),
]
