"""Every administration route (``/v1/organization/...``)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from switchyard.surfaces.admin import (
    admin_keys,
    api_keys,
    deployments,
    moderation,
    projects,
    service_accounts,
    usage,
    users,
)


def admin_routes() -> list[BaseRoute]:
    return [*projects.ROUTES, *api_keys.ROUTES, *service_accounts.ROUTES, *users.ROUTES, *admin_keys.ROUTES,
            *deployments.ROUTES, *usage.ROUTES, *moderation.ROUTES]
