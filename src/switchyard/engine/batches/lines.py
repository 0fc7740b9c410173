"""One request line of a batch, run as the caller who created the batch would have run it
interactively: in its own call scope, metered (a ledger entry, budgets), observed
(rate-limit admission, metrics, an access-log line), through the surface's own code
path (a ``LineCall`` the surfaces provide, which answers in the surface's wire shape)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.metering import Metering, metering
from switchyard.gateway.telemetry.access import record_end
from switchyard.gateway.telemetry.request_trace import CallServices, RequestTrace, observing


class LineResult(NamedTuple):
    """What the endpoint answered: its status and body (or error body), and, for a request
    refused as rate-limited or overloaded (not an answer: it is tried again), the seconds
    to wait first, if the refusal said."""

    status: int
    body: dict[str, Any]
    retry: bool = False
    retry_after: float | None = None


# (principal, request body) -> what the endpoint answered; never raises for a bad request.
LineCall = Callable[[Principal, dict[str, Any]], Awaitable[LineResult]]
LineCalls = Mapping[str, LineCall]  # by endpoint ("/v1/chat/completions", "/v1/messages")

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
            answer, result = await self._once(call, principal, surface, body, label)
            if not result.retry or attempt >= self.retries:
                return answer
            backoff = self.backoff_seconds * 2 ** attempt
            await asyncio.sleep(min(result.retry_after if result.retry_after is not None else backoff, BACKOFF_MAX))
            attempt += 1

    async def _once(self, call: LineCall, principal: Principal, surface: str, body: dict[str, Any],
                    label: str) -> tuple[LineAnswer, LineResult]:
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
                result = await call(principal, body)
                status = result.status
        except BaseException:
            status = STOPPED
            meter.answered(None, client_left=True)
            raise
        finally:
            if trace is not None:
                await record_end(trace, status=status, method="BATCH", path=label)
        meter.answered(status)
        return LineAnswer(status, result.body, scope.request_id), result
