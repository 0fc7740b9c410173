"""GET /metrics: Prometheus text format. Who may read it is ``metrics_auth``: ``admin`` (the
master key or an admin key, the default), ``loopback`` (anyone connecting from this host,
an admin key otherwise) or ``open``."""

from __future__ import annotations

import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from switchyard.core.errors import SwitchyardError
from switchyard.gateway.auth import PROJECT_HEADER, require_admin
from switchyard.surfaces.context import services_of
from switchyard.surfaces.openai.errors import render_error


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics(request: Request) -> Response:
    services = services_of(request)
    mode = services.settings.metrics_auth
    if mode == "admin" or (mode == "loopback" and not _loopback(request)):
        try:
            peer = request.client.host if request.client else None
            client_ip = services.client_address.resolve(peer, request.headers)
            headers = {k: v for k, v in request.headers.items() if k != PROJECT_HEADER}
            require_admin(await services.auth.authenticate(headers, client_ip))
        except SwitchyardError as error:
            return render_error(error)
    body = await services.call_services.metrics.exposition()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
