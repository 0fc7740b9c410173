"""The playground: a chat with any model on any of the three chat surfaces (OpenAI
Chat Completions, Responses, Anthropic Messages), streamed. The page builds the very
body it shows as curl / Python / JS code; the console sends that body through the
surface in process, in the chosen project, and streams the surface's answer back."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.console.loopback import Relay
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import SwitchyardError, invalid
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import read_json
from switchyard.surfaces.openai.errors import render_error

SURFACES = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "messages": "/v1/messages"}


def chat_models(services: Services) -> list[str]:
    return [route.name for route in services.models.routes()]


@console_page
async def playground(request: Request, services: Services, session: Session) -> Response:
    projects = await services.organization.list_projects()
    return render(request, "playground.html", session, models=chat_models(services), projects=projects,
                  surfaces=list(SURFACES))


@console_page
async def run(request: Request, services: Services, session: Session) -> Response:
    try:
        body = await read_json(request, services.settings.max_body_bytes)
        surface, project_id, call = body.get("surface"), body.get("project_id"), body.get("body")
        if surface not in SURFACES:
            raise invalid(f"'surface' must be one of {', '.join(SURFACES)}.", "surface")
        if not isinstance(project_id, str) or not project_id:
            raise invalid("'project_id' is required.", "project_id")
        if not isinstance(call, dict):
            raise invalid("'body' must be the request body (a JSON object).", "body")
        await services.organization.active_project(project_id)
    except SwitchyardError as failure:
        return render_error(failure)
    return Relay(project_id, "POST", SURFACES[str(surface)], json=call)


ROUTES = [
    Route("/playground", playground, methods=["GET"]),
    Route("/playground/run", run, methods=["POST"]),
]
