"""Every model turn passes here (``engine/generation.py``): the call's first turn goes
through rate-limit admission, and each turn is measured (time to first event, tokens,
upstream errors) and, with tracing on, recorded as a GenAI span."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import Event, Failure, Finish, UsageReport
from switchyard.core.request import Request
from switchyard.core.usage import Usage
from switchyard.gateway.call_scope import current_scope
from switchyard.gateway.limits import RateLimited
from switchyard.gateway.limits.estimate import CHARS_PER_TOKEN, reserved_tokens
from switchyard.gateway.metered_calls import record_refusal
from switchyard.gateway.router import Route
from switchyard.gateway.telemetry.request_trace import RequestTrace, current_trace

if TYPE_CHECKING:
    from opentelemetry.trace import Span
from switchyard.gateway.telemetry.genai import PROVIDER_NAMES, AttributeValue


def watch_turn(route: Route, request: Request, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events`` as they are, outside any observed request; otherwise admitted and measured."""
    trace = current_trace()
    if trace is None:
        return events
    return _watched(trace, route, request, events)


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


async def _admit(trace: RequestTrace, model: str, tokens: int, kind: str) -> None:
    """Once per call, whatever the number of its turns (a Responses tool loop is one call)."""
    trace.admitted = True
    scope = current_scope()
    limiter = trace.services.limiter
    if scope is None or limiter is None:
        return
    try:
        trace.admission = await limiter.admit(scope.principal, model, tokens)
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


async def _watched(trace: RequestTrace, route: Route, request: Request,
                   events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    trace.model = route.name
    trace.turn_tokens = reserved_tokens(request)
    if not trace.admitted:
        await _admit(trace, route.name, trace.turn_tokens, "completions")
    metrics = trace.services.metrics
    tracing = trace.services.tracing
    span = (tracing.start_model_span("chat", request.model, _span_attributes(route, request), trace.span)
            if tracing else None)
    started = time.perf_counter()
    first = True
    usage: Usage | None = None
    reasons: list[str] = []
    try:
        async for event in events:
            if first:
                metrics.observe_ttft(route.name, time.perf_counter() - started)
                first = False
            if isinstance(event, UsageReport):
                usage = event.usage
            elif isinstance(event, Finish):
                reasons.append(event.reason)
            elif isinstance(event, Failure):
                _failed(trace, span, event.error)
            yield event
    except SwitchyardError as error:
        _failed(trace, span, error)
        raise
    finally:
        if usage is not None:
            trace.add_usage(usage)
            metrics.observe_tokens(route.name, usage)
        if span is not None:
            _end_span(span, route, usage, reasons, trace.request_id)


def _failed(trace: RequestTrace, span: Span | None, error: SwitchyardError) -> None:
    """Upstream errors are counted per deployment by the router's observer (``Metrics.attempt_failed``)."""
    if span is not None and trace.services.tracing is not None:
        trace.services.tracing.fail(span, error.kind.value, error.message)


def text_tokens(texts: list[str]) -> int:
    """The cheap estimate of texts' tokens (characters / 4, at least one each)."""
    return sum(len(text) // CHARS_PER_TOKEN + 1 for text in texts)
