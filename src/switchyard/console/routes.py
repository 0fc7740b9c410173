"""Every console route, mounted at ``/console`` (unless ``console: false``), and the
security headers its pages carry."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchyard.console.pages import (
    admin_keys,
    auth,
    files,
    keys,
    models,
    overview,
    playground,
    project_people,
    projects,
    requests_log,
    stored,
    users,
)
from switchyard.console.render import render_refusal

# No inline scripts anywhere (data goes in <script type="application/json">), so 'self' is enough.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"cache-control", b"no-store")]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        static = scope["path"].startswith("/console/static/")  # revalidated by ETag, not refetched whole

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(n, b"no-cache" if static and n == b"cache-control" else v) for n, v in HEADERS
                         if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _pages() -> list[BaseRoute]:
    p, k = "/projects/{project_id}", "/projects/{project_id}/keys/{key_id}"
    return [
        Route("/", overview.overview, methods=["GET"]),
        Route("/login", auth.login_page, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/projects", projects.list_projects, methods=["GET"]),
        Route("/projects", projects.create_project, methods=["POST"]),
        Route(p, projects.show_project, methods=["GET"]),
        Route(p, projects.update_project, methods=["POST"]),
        Route(p + "/archive", projects.archive_project, methods=["POST"]),
        Route(p + "/model_limits/{model:path}", projects.update_model_limit, methods=["POST"]),
        Route(p + "/keys", keys.create_key, methods=["POST"]),
        Route(k, keys.show_key, methods=["GET"]),
        Route(k, keys.update_key, methods=["POST"]),
        Route(k + "/enabled", keys.set_enabled, methods=["POST"]),
        Route(k + "/delete", keys.delete_key, methods=["POST"]),
        Route("/requests", requests_log.request_log, methods=["GET"]),
        Route("/requests/{entry_id}", requests_log.request_entry, methods=["GET"]),
        *playground.ROUTES,
        *models.ROUTES,
        *files.ROUTES,
        *stored.ROUTES,
        *admin_keys.ROUTES,
        *users.ROUTES,
        *project_people.ROUTES,
        Mount("/static", StaticFiles(packages=[("switchyard.console", "static")]), name="console-static"),
        Route("/{rest:path}", _not_found, methods=["GET", "POST"]),
    ]


async def _not_found(request: Request) -> Response:
    return render_refusal(404, f"There is no console page at {request.url.path}.")


def console_routes() -> list[BaseRoute]:
    return [Mount("/console", routes=_pages(), middleware=[Middleware(SecurityHeaders)])]
