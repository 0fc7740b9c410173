"""Files and vector stores of a project, through the public Files and Vector Stores
APIs in process: list, upload (streamed on, with progress in the page), attach to a
store, watch ingestion, and search a store showing the ranked chunks and their scores."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.console import forms
from switchyard.console.loopback import Relay, call
from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.gateway.auth import DEFAULT_PROJECT
from switchyard.surfaces.context import Services


async def _project(request: Request, services: Services) -> str:
    project_id = request.query_params.get("project_id") or DEFAULT_PROJECT
    await services.organization.active_project(project_id)
    return project_id


def _data(status: int, body: Any) -> list[dict[str, Any]]:
    return list(body.get("data", [])) if status == 200 and isinstance(body, dict) else []


def _error(status: int, body: Any) -> str | None:
    if status < 400:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("message")) if isinstance(error, dict) else f"HTTP {status}"


@console_page
async def files_page(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    files = _data(*await call(request, project_id, "GET", "/v1/files", query={"limit": 100}))
    stores = _data(*await call(request, project_id, "GET", "/v1/vector_stores", query={"limit": 100}))
    projects = await services.organization.list_projects()
    return render(request, "files.html", session, project_id=project_id, projects=projects, files=files,
                  stores=stores, embedding_model=services.settings.embedding_model)


@console_page
async def upload(request: Request, services: Services, session: Session) -> Response:
    """The browser's multipart body goes to ``POST /v1/files`` as it arrives (CSRF token in
    the header: the body is not read here)."""
    return Relay(await _project(request, services), "POST", "/v1/files", passthrough=True)


@console_page
async def create_store(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    form = await request.form()
    body: dict[str, Any] = {"name": forms.text(form, "name") or "Vector store"}
    file_id = forms.text(form, "file_id")
    if file_id:
        body["file_ids"] = [file_id]
    status, answer = await call(request, project_id, "POST", "/v1/vector_stores", json=body)
    if status >= 400:
        return render(request, "_flash.html", session, status=status, message=_error(status, answer), ok=False)
    return Response(status_code=204, headers={"HX-Redirect": f"/console/files/{answer['id']}?project_id={project_id}"})


@console_page
async def attach(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    form = await request.form()
    store_id = str(request.path_params["store_id"])
    status, answer = await call(request, project_id, "POST", f"/v1/vector_stores/{store_id}/files",
                                json={"file_id": forms.text(form, "file_id")})
    return render(request, "_flash.html", session, status=status if status >= 400 else 200,
                  message=_error(status, answer) or f"Attached {answer.get('id')}: {answer.get('status')}.",
                  ok=status < 400)


async def _store_files(request: Request, project_id: str, store_id: str) -> tuple[list[dict[str, Any]], bool]:
    files = _data(*await call(request, project_id, "GET", f"/v1/vector_stores/{store_id}/files",
                              query={"limit": 100}))
    return files, any(f.get("status") == "in_progress" for f in files)


@console_page
async def store_page(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    store_id = str(request.path_params["store_id"])
    files, busy = await _store_files(request, project_id, store_id)  # first: the store's status is no older
    status, store = await call(request, project_id, "GET", f"/v1/vector_stores/{store_id}")
    if status != 200:
        return render(request, "refusal.html", session, status=status, message=_error(status, store))
    all_files = _data(*await call(request, project_id, "GET", "/v1/files", query={"limit": 100}))
    return render(request, "store.html", session, project_id=project_id, store=store, files=files, busy=busy,
                  all_files=all_files, refreshed=False)


@console_page
async def store_files(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    store_id = str(request.path_params["store_id"])
    files, busy = await _store_files(request, project_id, store_id)
    status, store = await call(request, project_id, "GET", f"/v1/vector_stores/{store_id}")
    return render(request, "_store_files.html", session, project_id=project_id, files=files, busy=busy,
                  store=store if status == 200 else {"id": store_id}, refreshed=True)


@console_page
async def search(request: Request, services: Services, session: Session) -> Response:
    project_id = await _project(request, services)
    form = await request.form()
    query = forms.text(form, "query")
    store_id = str(request.path_params["store_id"])
    status, answer = await call(request, project_id, "POST", f"/v1/vector_stores/{store_id}/search",
                                json={"query": query, "max_num_results": 10})
    return render(request, "_search_results.html", session, status=200 if status < 400 else status,
                  query=query, results=_data(status, answer), failure=_error(status, answer))


ROUTES = [
    Route("/files", files_page, methods=["GET"]),
    Route("/files/upload", upload, methods=["POST"]),
    Route("/files/vector_stores", create_store, methods=["POST"]),
    Route("/files/{store_id}", store_page, methods=["GET"]),
    Route("/files/{store_id}/files", store_files, methods=["GET"]),
    Route("/files/{store_id}/attach", attach, methods=["POST"]),
    Route("/files/{store_id}/search", search, methods=["POST"]),
]
