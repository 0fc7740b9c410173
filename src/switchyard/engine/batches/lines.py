"""One request line of a batch, run as the caller who created the batch would have run it
interactively: in its own call scope, metered (a ledger entry, budgets), observed
(rate-limit admission, metrics, an access-log line), through the surface's own code
path (a ``LineCall`` the surfaces provide, which answers in the surface's wire shape)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.metering import Metering, metering
from switchyard.gateway.telemetry.access import record_end
from switchyard.gateway.telemetry.request_trace import CallServices, RequestTrace, observing

# (principal, request body) -> (HTTP status, response or error body); never raises for a bad request.
LineCall = Callable[[Principal, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]
LineCalls = Mapping[str, LineCall]  # by endpoint ("/v1/chat/completions", "/v1/messages")

RETRIED = (429, 503)  # rate-limited or overloaded: tried again later, not an answer
BACKOFF_MAX = 30.0
STOPPED = 499  # the access log's status for a line stopped by a cancel, an expiry or a shutdown


@dataclass(frozen=True, slots=True)
class LineAnswer:
    status: int
    body: dict[str, Any]
    request_id: str


class LineRunner:
    def __init__(self, metering_: Metering, call_services: CallServices | None, *, retries: int,
                 backoff_seconds: float = 1.0) -> None:
        self.metering = metering_
        self.call_services = call_services
        self.retries = retries
        self.backoff_seconds = backoff_seconds

    async def run(self, call: LineCall, principal: Principal, surface: str, body: dict[str, Any],
                  label: str) -> LineAnswer:
        attempt = 0
        while True:
            answer = await self._once(call, principal, surface, body, label)
            if answer.status not in RETRIED or attempt >= self.retries:
                return answer
            await asyncio.sleep(min(self.backoff_seconds * 2 ** attempt, BACKOFF_MAX))
            attempt += 1

    async def _once(self, call: LineCall, principal: Principal, surface: str, body: dict[str, Any],
                    label: str) -> LineAnswer:
        scope = CallScope(principal, surface)
        meter = self.metering.open(scope, left_outcome="cancelled")
        trace = None
        if self.call_services is not None:
            trace = RequestTrace(scope.request_id, self.call_services, surface=surface,
                                 vendor=surface.split(".", 1)[0], project_id=principal.owner_id,
                                 key_id=principal.key_id)
        status = 500
        try:
            with entered(scope), metering(meter), observing(trace) if trace else contextlib.nullcontext():
                status, answer = await call(principal, body)
        except BaseException:
            status = STOPPED
            meter.answered(None, client_left=True)
            raise
        finally:
            if trace is not None:
                await record_end(trace, status=status, method="BATCH", path=label)
        meter.answered(status)
        return LineAnswer(status, answer, scope.request_id)
