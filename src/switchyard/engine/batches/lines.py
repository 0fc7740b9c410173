"""One request line of a batch, run as the caller who created the batch would have run it
interactively: in its own call scope, metered (a ledger entry, budgets), observed
(rate-limit admission, metrics, an access-log line), through the surface's own code
path (a ``LineCall`` the surfaces provide, which answers in the surface's wire shape)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from switchyard.core.errors import SwitchyardError
from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.metering import Metering, metering
from switchyard.gateway.selection import backoff
from switchyard.gateway.telemetry.access import record_end
from switchyard.gateway.telemetry.request_trace import CallServices, RequestTrace, observing
from switchyard.providers.upstream_errors import retry_after_seconds, retryable


class LineResult(NamedTuple):
    """What the endpoint answered: its status and body (or error body), and the error it
    raised, if any (the runner tries a line again after a passing failure)."""

    status: int
    body: dict[str, Any]
    error: SwitchyardError | None = None


# (principal, request body) -> what the endpoint answered; never raises for a bad request.
LineCall = Callable[[Principal, dict[str, Any]], Awaitable[LineResult]]
LineCalls = Mapping[str, LineCall]  # by endpoint ("/v1/chat/completions", "/v1/messages")

WAIT_MAX = 30.0  # the longest wait before trying a line again, whatever a Retry-After asks
STOPPED = 499  # the access log's status for a line stopped by a cancel, an expiry or a shutdown


@dataclass(frozen=True, slots=True)
class LineAnswer:
    status: int
    body: dict[str, Any]
    request_id: str


class LineRunner:
    """Runs a line, and runs it again (``retries`` times at most) after a failure that may
    pass: rate-limited, overloaded, an upstream's 5xx, timeout or broken connection (what
    routing would send to another deployment, ``upstream_errors.retryable``). It waits
    the upstream's ``Retry-After``, else ``backoff_seconds`` doubling with jitter, never
    more than ``wait_max``; a request the upstream refused (4xx) is an answer at once."""

    def __init__(self, metering_: Metering, call_services: CallServices | None, *, retries: int,
                 backoff_seconds: float = 1.0, wait_max: float = WAIT_MAX, rng: random.Random | None = None) -> None:
        self.metering = metering_
        self.call_services = call_services
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.wait_max = wait_max
        self.rng = rng or random.Random()

    async def run(self, call: LineCall, principal: Principal, surface: str, body: dict[str, Any],
                  label: str, slot: asyncio.Semaphore | None = None) -> LineAnswer:
        """``slot`` is held while a try runs (not while waiting to try again)."""
        attempt = 1
        while True:
            async with slot if slot is not None else contextlib.nullcontext():
                answer, result = await self._once(call, principal, surface, body, label)
            if result.error is None or not retryable(result.error) or attempt > self.retries:
                return answer
            await asyncio.sleep(self.wait(attempt, result.error))
            attempt += 1

    def wait(self, attempt: int, error: SwitchyardError) -> float:
        """Seconds before try ``attempt + 1``, after try ``attempt`` failed with ``error``."""
        asked = retry_after_seconds(error)
        if asked is None:
            asked = backoff(attempt + 1, self.backoff_seconds, self.wait_max, self.rng)
        return min(asked, self.wait_max)

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
