"""The one place a request's parameters meet the backend's support table: a meaningful
value the backend cannot honour is refused with a 400 naming the client's field, or,
for a model configured with ``drop_params``, set back to neutral and logged."""

from __future__ import annotations

import logging

from switchyard.core.errors import unsupported
from switchyard.core.parameters import PARAMETERS
from switchyard.core.request import Request
from switchyard.gateway.router import Route

log = logging.getLogger(__name__)


def check_parameters(route: Route, request: Request, *, quiet: bool = False) -> None:
    """Raises ``SwitchyardError`` (400, ``param`` = the client's field) for the first
    parameter the backend does not support; with ``drop_params`` resets them instead."""
    caps = route.provider.capabilities
    for parameter in PARAMETERS:
        if not parameter.is_set(request):
            continue
        support = caps.support(parameter.name)
        if support.accepts(parameter.value(request)):
            continue
        field = request.param_name(parameter.name)
        why = support.how if support.values is None else (
            f"{support.how}; supported values: {', '.join(sorted(support.values))}")
        if route.config.drop_params:
            if not quiet:
                log.warning("model %s: dropping '%s' (%s): drop_params is on", route.name, field, why)
            parameter.reset(request)
            continue
        raise unsupported(field, f"model '{route.name}' ({route.config.provider} backend): {why}")
