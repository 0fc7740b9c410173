"""One model turn: check what the backend can do, then stream its events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from switchyard.core.errors import unsupported
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.engine.parameter_check import check_parameters
from switchyard.engine.structured import enforce, needs_enforcement
from switchyard.gateway.drain import until_drained
from switchyard.gateway.guardrail import guarded
from switchyard.gateway.metered_calls import metered_turn
from switchyard.gateway.router import Route
from switchyard.gateway.turn_watch import watch_turn
from switchyard.providers.base import PartialSchemaEnforcement


def generate(route: Route, request: Request) -> AsyncIterator[Event]:
    """Raises ``SwitchyardError`` for what the backend cannot do, before any event.

    Rate limits come first (``watch_turn``: a refused call touches no database), then the
    project's moderation guardrail (``guarded``), then the budget (``metered_turn``). A turn
    of an HTTP request still streaming when a draining process's deadline passes ends with
    a ``Failure``, as a broken upstream stream does (``until_drained``)."""
    turn = until_drained(_generate(route, request))
    return watch_turn(route, request, guarded(request, metered_turn(route, request, turn)))


def _generate(route: Route, request: Request) -> AsyncIterator[Event]:
    check_parameters(route, request)
    if needs_enforcement(request) and not route.provider.capabilities.json_schema:
        if request.n > 1:
            raise unsupported("n", "n > 1 with structured outputs needs a backend that enforces them")
        return enforce(route.provider, request, route.config.structured_retries)
    if (needs_enforcement(request) and isinstance(route.provider, PartialSchemaEnforcement)
            and route.provider.unenforced(request)):
        return enforce(route.provider, request, route.config.structured_retries)
    return route.provider.generate(request)
