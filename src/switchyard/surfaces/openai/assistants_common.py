"""What the Assistants surfaces (assistants, threads, messages) share: the page of a
list request, and the service."""

from __future__ import annotations

from starlette.requests import Request

from switchyard.engine.assistants.service import AssistantsService, Page
from switchyard.surfaces.context import Services
from switchyard.surfaces.pagination import page_params


def page_of(request: Request) -> Page:
    """``limit`` (1..100, default 20), ``order`` (default ``desc``), ``after``, ``before``."""
    after, limit, order = page_params(request)
    return Page(limit=limit, order=order, after=after, before=request.query_params.get("before") or None)


def service(services: Services) -> AssistantsService:
    return services.assistants
