"""One API request as observed from the outside: its id, who asked, which model served it,
the tokens it used, its rate-limit admission. Created where the request enters (the HTTP
middleware, or the background runner for a queued job), filled in as the call runs, and read
once it ends for the log line, the metrics and the settling of its limits."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from switchyard.core.usage import Usage

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from switchyard.gateway.limits import Admission, Decision, Limiter
    from switchyard.gateway.moderation import ModerationModels
    from switchyard.gateway.telemetry.metrics import Metrics
    from switchyard.gateway.telemetry.tracing import Tracing

_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def request_id_from(incoming: str | None) -> str:
    """A client's own ``x-request-id`` when it is a plain token of 8 to 128 characters;
    otherwise (absent, odd characters, a log-injection attempt) a new one."""
    if incoming is not None and _SANE_ID.match(incoming):
        return incoming
    return new_request_id()


@dataclass(slots=True)
class CallServices:
    """What every call reaches wherever it runs: the app's metrics, spans and limiter,
    and the moderation models the guardrail uses."""

    metrics: Metrics
    limiter: Limiter | None = None
    tracing: Tracing | None = None
    moderation: ModerationModels | None = None


@dataclass(slots=True)
class RequestTrace:
    request_id: str
    services: CallServices
    surface: str = "other"
    vendor: str = "openai"
    model: str = ""
    project_id: str | None = None
    key_id: str | None = None
    usage: Usage | None = None
    admitted: bool = False  # the first model turn has been through admission
    turn_tokens: int = 0  # the cheap estimate of the model turn under way (for the deployment gate)
    admission: Admission | None = None
    decision: Decision | None = None  # what the response headers report
    screened: bool = False  # the moderation guardrail has seen the call's input
    moderation_flags: tuple[str, ...] = ()  # categories the guardrail flagged (mode "flag")
    output_moderation_flags: tuple[str, ...] = ()  # ... in the model's output (output mode "flag")
    started: float = field(default_factory=time.monotonic)
    span: Span | None = None  # the request's server span (with tracing on): its model calls' parent

    def add_usage(self, usage: Usage) -> None:
        self.usage = usage if self.usage is None else self.usage.add(usage)

    async def finish(self) -> None:
        """Settle the call's rate limits with what it really used (once)."""
        if self.admission is not None:
            used = self.usage.total_tokens if self.usage is not None else None
            await self.admission.finish(used)


_current: ContextVar[RequestTrace | None] = ContextVar("switchyard_request_trace", default=None)
_connection: ContextVar[Span | None] = ContextVar("switchyard_connection_span", default=None)


def connection_span() -> Span | None:
    """The server span of the WebSocket connection a call runs on (with tracing on)."""
    return _connection.get()


@contextmanager
def on_connection(span: Span) -> Iterator[Span]:
    token = _connection.set(span)
    try:
        yield span
    finally:
        _connection.reset(token)


def current_trace() -> RequestTrace | None:
    return _current.get()


def current_request_id() -> str | None:
    trace = _current.get()
    return trace.request_id if trace is not None else None


def observe_cost(usd: Decimal | float, model: str | None = None) -> None:
    """Metering reports a settled call's cost here (inside the call; ``model`` defaults to the
    model that served it)."""
    trace = _current.get()
    if trace is not None:
        trace.services.metrics.observe_cost(model or trace.model, usd)


@contextmanager
def observing(trace: RequestTrace) -> Iterator[RequestTrace]:
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)
