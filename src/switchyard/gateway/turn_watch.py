"""Every model turn passes here (``engine/generation.py``), in one layer: the call's first
turn goes through rate-limit admission, then the budget reservation; then each event is seen
once, for the metrics (time to first event, tokens, finish reasons), the GenAI span (with
tracing on) and the meter (the turn's usage and cost, ``gateway/metered_calls.py``).

When the project has a moderation guardrail (``guardrail.py``), it runs between the two: the
turn is admitted and measured, screened, then metered, each by its own layer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    Event,
    Failure,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.request import Request
from switchyard.core.usage import Usage
from switchyard.gateway import guardrail
from switchyard.gateway.call_scope import current_scope
from switchyard.gateway.limits import RateLimited
from switchyard.gateway.limits.deployments import sole_deployment
from switchyard.gateway.limits.estimate import CHARS_PER_TOKEN, reserved_tokens
from switchyard.gateway.meter import Call, Meter
from switchyard.gateway.metered_calls import TurnCount, end_turn_call, error_outcome, record_refusal, worst_case
from switchyard.gateway.metering import current_meter
from switchyard.gateway.router import Route
from switchyard.gateway.telemetry.request_trace import RequestTrace, current_trace

if TYPE_CHECKING:
    from opentelemetry.trace import Span
from switchyard.gateway.telemetry.genai import PROVIDER_NAMES, AttributeValue


def watch_turn(route: Route, request: Request, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events`` as they are outside any observed or metered request; otherwise admitted,
    screened, metered and measured."""
    trace = current_trace()
    meter = current_meter()
    if guardrail.applies():
        metered = events if meter is None else _watched(None, meter, route, request, events)
        return _watched(trace, None, route, request, guardrail.guarded(request, metered))
    if trace is None and meter is None:
        return events
    return _watched(trace, meter, route, request, events)


async def admit_call(model: str, tokens: int, kind: str = "embeddings") -> None:
    """Admission for a call that is no model turn here (embeddings, rerank, a relayed
    realtime response): ``tokens`` reserved, settled with what ``note_usage`` reports."""
    trace = current_trace()
    if trace is not None and not trace.admitted:
        trace.model = model
        await _admit(trace, model, tokens, kind)


def note_usage(usage: Usage) -> None:
    trace = current_trace()
    if trace is not None:
        trace.add_usage(usage)
        trace.services.metrics.observe_tokens(trace.model, usage)


async def _admit(trace: RequestTrace, model: str, tokens: int, kind: str, route: Route | None = None) -> None:
    """Once per call, whatever the number of its turns (a Responses tool loop is one call).
    With ``route``, its deployment is admitted in the same step where that saves a round trip."""
    trace.admitted = True
    scope = current_scope()
    limiter = trace.services.limiter
    if scope is None or limiter is None:
        return
    rider = sole_deployment(route.provider, limiter.store) if route is not None and limiter.pairs else None
    try:
        trace.admission = await limiter.admit(scope.principal, model, tokens, rider)
    except RateLimited as refused:
        trace.decision = refused.decision
        level = (refused.decision.bucket or "unknown").split(":", 1)[0]
        trace.services.metrics.observe_rejection(level, refused.decision.reason or "unknown")
        record_refusal(kind, model, refused)
        raise
    trace.decision = trace.admission.decision if trace.admission is not None else None


def _span_attributes(route: Route, request: Request) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        "gen_ai.provider.name": PROVIDER_NAMES.get(route.config.provider, route.config.provider),
        "gen_ai.request.model": request.model,
    }
    optional: dict[str, float | int | None] = {
        "gen_ai.request.max_tokens": request.max_output_tokens, "gen_ai.request.temperature": request.temperature,
        "gen_ai.request.top_p": request.top_p, "gen_ai.request.seed": request.seed,
    }
    attributes.update({k: v for k, v in optional.items() if v is not None})
    if request.n > 1:
        attributes["gen_ai.request.choice.count"] = request.n
    return attributes


def _end_span(span: Span, route: Route, usage: Usage | None, reasons: list[str], request_id: str) -> None:
    span.set_attribute("gen_ai.response.model", route.config.upstream_model)
    span.set_attribute("switchyard.request_id", request_id)
    if usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
    if reasons:
        span.set_attribute("gen_ai.response.finish_reasons", reasons)
    span.end()


async def _closed(events: AsyncIterator[Event]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


class _Turn:
    """One model turn's bookkeeping, for its trace (metrics, span) and its meter."""

    __slots__ = ("call", "count", "meter", "metrics", "reasons", "request", "route", "span", "started", "trace",
                 "usage")

    def __init__(self, trace: RequestTrace | None, meter: Meter | None, route: Route, request: Request) -> None:
        self.trace, self.meter, self.route, self.request = trace, meter, route, request
        self.metrics = trace.services.metrics if trace is not None else None
        self.span: Span | None = None
        self.started = 0.0
        self.usage: Usage | None = None
        self.reasons: list[str] = []
        self.call: Call | None = None
        self.count = TurnCount()

    async def admit(self) -> None:
        trace, route, request = self.trace, self.route, self.request
        if trace is not None:
            trace.model = route.name
            trace.turn_tokens = reserved_tokens(request)
            if not trace.admitted:
                await _admit(trace, route.name, trace.turn_tokens, "completions", route)
            tracing = trace.services.tracing
            if tracing is not None:
                self.span = tracing.start_model_span("chat", request.model, _span_attributes(route, request),
                                                      trace.span)
        self.started = time.perf_counter()

    async def reserve(self, events: AsyncIterator[Event]) -> None:
        """The budget; ``events`` closed when it refuses."""
        meter = self.meter
        if meter is not None:
            call = self.call = meter.open_call("completions", self.route.name)
            try:
                await meter.reserve(call, self.route.config.price, lambda: worst_case(meter, self.route, self.request))
            except SwitchyardError:
                await _closed(events)
                raise

    def first_event(self) -> None:
        self.count.begun = True
        if self.metrics is not None:
            self.metrics.observe_ttft(self.route.name, time.perf_counter() - self.started)

    def first_content(self) -> None:
        if self.meter is not None:
            self.meter.first_token()

    def control(self, event: Event, kind: type) -> None:
        """An event without content."""
        if kind is UsageReport:
            self.usage = self.count.reported = event.usage  # type: ignore[union-attr]
        elif kind is Finish:
            self.count.finishes += 1
            self.reasons.append(event.reason)  # type: ignore[union-attr]
        elif kind is Failure:
            error = event.error  # type: ignore[union-attr]
            call = self.call
            if call is not None and self.meter is not None:
                call.outcome, call.error_code = "upstream_error", error.code or error.kind.value
                end_turn_call(call, self.count, self.route, self.request, self.meter)  # nothing follows
            _failed(self.trace, self.span, error)
        elif kind is Start and event.usage is not None:  # type: ignore[union-attr]
            self.count.started = event.usage  # type: ignore[union-attr]

    def raised(self, error: SwitchyardError) -> None:
        call = self.call
        if call is not None and call.outcome == "completed":
            call.outcome, call.error_code = error_outcome(error), error.code or error.kind.value
        _failed(self.trace, self.span, error)

    def left(self) -> None:
        """The turn was cut short by its consumer (the client left, or it stopped reading)."""
        if self.call is not None and self.meter is not None and self.count.finishes < max(1, self.request.n):
            self.call.outcome = self.meter.left_outcome

    def end(self) -> None:
        if self.call is not None and self.meter is not None:
            end_turn_call(self.call, self.count, self.route, self.request, self.meter)
        trace, usage = self.trace, self.usage
        if trace is not None:
            if usage is not None:
                trace.add_usage(usage)
                trace.services.metrics.observe_tokens(self.route.name, usage)
            if self.span is not None:
                _end_span(self.span, self.route, usage, self.reasons, trace.request_id)


async def _watched(trace: RequestTrace | None, meter: Meter | None, route: Route, request: Request,
                   events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """The turn's one layer. Type checks rather than ``match``, and a method call only for
    the few events without content: this loop runs for every event of every stream."""
    turn = _Turn(trace, meter, route, request)
    await turn.admit()
    try:
        await turn.reserve(events)
        output, reasoning = turn.count.output, turn.count.reasoning
        waiting = True  # for the first event
        content = False  # a content event has come
        async for event in events:
            if waiting:
                waiting = False
                turn.first_event()
            kind = type(event)
            if kind is TextDelta or kind is RefusalDelta:
                output.add(event.text)  # type: ignore[union-attr]
            elif kind is ArgumentsDelta:
                output.add(event.arguments)  # type: ignore[union-attr]
            elif kind is ReasoningDelta:
                reasoning.add(event.text)  # type: ignore[union-attr]
            else:
                turn.control(event, kind)
                yield event
                continue
            if not content:
                content = True
                turn.first_content()
            yield event
    except SwitchyardError as error:
        turn.raised(error)
        raise
    except (asyncio.CancelledError, GeneratorExit):
        turn.left()
        raise
    finally:
        turn.end()


def _failed(trace: RequestTrace | None, span: Span | None, error: SwitchyardError) -> None:
    """Upstream errors are counted per deployment by the router's observer (``Metrics.attempt_failed``)."""
    if span is not None and trace is not None and trace.services.tracing is not None:
        trace.services.tracing.fail(span, error.kind.value, error.message)


def text_tokens(texts: list[str]) -> int:
    """The cheap estimate of texts' tokens (characters / 4, at least one each)."""
    return sum(len(text) // CHARS_PER_TOKEN + 1 for text in texts)
