"""Stored responses and conversations of a project: the newest of each, and each one
opened with its items (read through the public Responses and Conversations APIs)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.console.items import item_label, item_text
from switchyard.console.loopback import call
from switchyard.console.render import render, render_refusal
from switchyard.console.session import Session, console_page
from switchyard.gateway.auth import DEFAULT_PROJECT
from switchyard.surfaces.context import Services

PAGE = {"limit": 100, "order": "asc"}


async def _project(request: Request, services: Services) -> str:
    project_id = request.query_params.get("project_id") or DEFAULT_PROJECT
    await services.organization.project(project_id)
    return project_id


def _lines(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"label": item_label(i), "text": item_text(i), "id": str(i.get("id") or "")} for i in items]


def _failure(status: int, body: Any) -> Response | None:
    if status == 200:
        return None
    message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    return render_refusal(status, str(message or f"HTTP {status}"))


@console_page
async def stored_page(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    return render(request, "stored.html", session, project_id=project_id,
                  projects=await services.organization.list_projects(include_archived=True),
                  responses=await services.responses.stored.recent_responses(project_id),
                  conversations=await services.responses.stored.recent_conversations(project_id))


@console_page
async def stored_response(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    response_id = str(request.path_params["response_id"])
    status, body = await call(request, project_id, "GET", f"/v1/responses/{response_id}")
    failed = _failure(status, body)
    if failed is not None:
        return failed
    status, inputs = await call(request, project_id, "GET", f"/v1/responses/{response_id}/input_items", query=PAGE)
    return render(request, "stored_object.html", session, project_id=project_id, kind="Response",
                  object_id=response_id, body=body, inputs=_lines(inputs.get("data", []) if status == 200 else []),
                  outputs=_lines(body.get("output") or []))


@console_page
async def stored_conversation(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    conversation_id = str(request.path_params["conversation_id"])
    status, body = await call(request, project_id, "GET", f"/v1/conversations/{conversation_id}")
    failed = _failure(status, body)
    if failed is not None:
        return failed
    status, items = await call(request, project_id, "GET", f"/v1/conversations/{conversation_id}/items",
                               query=PAGE)
    return render(request, "stored_object.html", session, project_id=project_id, kind="Conversation",
                  object_id=conversation_id, body=body,
                  inputs=_lines(items.get("data", []) if status == 200 else []), outputs=[])


ROUTES = [
    Route("/stored", stored_page, methods=["GET"]),
    Route("/stored/responses/{response_id}", stored_response, methods=["GET"]),
    Route("/stored/conversations/{conversation_id}", stored_conversation, methods=["GET"]),
]
