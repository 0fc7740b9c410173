"""Each model call, observed as it runs: a model turn's event stream (wrapped where every
turn runs, ``engine/generation.py``) and an embedding call. The call reserves its worst
case against the caller's budgets before it starts, then its usage is taken from the
backend's report, or, when the backend reports none (or the call was cut short before its
report), counted here from the deltas as they pass: text is tokenized in pieces of at most
``COUNT_CHUNK`` characters, never kept whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
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
from switchyard.gateway.deployment_gate import DeploymentsAtLimit
from switchyard.gateway.meter import Call, Meter
from switchyard.gateway.metering import current_meter
from switchyard.gateway.prices import cost_nanousd, nano_to_usd, worst_case_nanousd
from switchyard.gateway.router import Route
from switchyard.gateway.telemetry.request_trace import observe_cost
from switchyard.providers.base import Embedder, Embeddings
from switchyard.providers.token_count import count_text, estimate_tokens

COUNT_CHUNK = 2048
UPSTREAM_KINDS = frozenset({ErrorKind.UPSTREAM, ErrorKind.TIMEOUT, ErrorKind.OVERLOADED, ErrorKind.RATE_LIMIT})


def error_outcome(error: SwitchyardError) -> str:
    if isinstance(error, DeploymentsAtLimit):
        return "rate_limited"
    return "upstream_error" if error.kind in UPSTREAM_KINDS else "error"


@dataclass(slots=True)
class _Counter:
    """Tokens of text seen so far, counted in pieces."""

    tokens: int = 0
    _pending: list[str] = field(default_factory=list)
    _size: int = 0

    def add(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= COUNT_CHUNK:
            self.settle()

    def settle(self) -> int:
        if self._pending:
            self.tokens += count_text("".join(self._pending))
            self._pending.clear()
            self._size = 0
        return self.tokens


@dataclass(slots=True)
class _Turn:
    output: _Counter = field(default_factory=_Counter)
    reasoning: _Counter = field(default_factory=_Counter)
    started: Usage | None = None  # what the backend said when it started (Anthropic: the input)
    reported: Usage | None = None
    finishes: int = 0
    begun: bool = False  # any event came: a call that failed or ended before costs nothing

    def observe(self, event: Event) -> bool:
        """Counts ``event``; True when it carries generated content. (Type checks rather
        than ``match``: this runs for every event of every stream.)"""
        self.begun = True
        kind = type(event)
        if kind is TextDelta or kind is RefusalDelta:
            self.output.add(event.text)  # type: ignore[union-attr]
            return True
        if kind is ArgumentsDelta:
            self.output.add(event.arguments)  # type: ignore[union-attr]
            return True
        if kind is ReasoningDelta:
            self.reasoning.add(event.text)  # type: ignore[union-attr]
            return True
        if kind is UsageReport:
            self.reported = event.usage  # type: ignore[union-attr]
        elif kind is Finish:
            self.finishes += 1
        elif kind is Start and event.usage is not None:  # type: ignore[union-attr]
            self.started = event.usage  # type: ignore[union-attr]
        return False

    def usage(self, request: Request, finished: bool) -> tuple[Usage, bool]:
        """The usage, and whether it was counted here. A report is cumulative: one that came
        before the stream was cut short may lag behind what was generated."""
        if self.reported is not None:
            if finished:
                return self.reported, False
            counted = self.output.settle() + self.reasoning.settle()
            if counted <= self.reported.output_tokens:
                return self.reported, False
            got = self.reported
            return Usage(got.input_tokens, counted, got.cached_input_tokens, got.cache_creation_input_tokens,
                         max(got.reasoning_tokens, self.reasoning.tokens)), True
        if not self.begun:
            return Usage(), False
        reasoning = self.reasoning.settle()
        output = self.output.settle() + reasoning
        begun = self.started
        if begun is not None and begun.input_tokens:
            return Usage(begun.input_tokens, max(begun.output_tokens, output), begun.cached_input_tokens,
                         begun.cache_creation_input_tokens, reasoning), True
        return Usage(estimate_tokens(request), output, reasoning_tokens=reasoning), True


def record_refusal(kind: str, model: str, error: SwitchyardError) -> None:
    """A call refused before it started (a rate limit) still gives its request a ledger entry."""
    meter = current_meter()
    if meter is None:
        return
    call = meter.open_call(kind, model)
    call.outcome, call.error_code = "rate_limited", error.code
    meter.end_call(call)


def worst_case(meter: Meter, route: Route, request: Request) -> int:
    """The most the turn can cost: the prompt (a local count, with a margin) and every token
    it may generate, in all its choices."""
    prompt = int(estimate_tokens(request) * meter.config.prompt_estimate_margin) + 1
    most = request.max_output_tokens
    if most is None and route.config.window is not None:
        most = max(1, route.config.window - prompt)
    if most is None:
        most = meter.config.reserve_output_tokens
    return worst_case_nanousd(route.config.price, prompt, most * max(1, request.n))


def metered_turn(route: Route, request: Request, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events``, metered for the request running in this context (unchanged outside one)."""
    meter = current_meter()
    if meter is None:
        return events
    return _turn(meter, route, request, events)


async def _turn(meter: Meter, route: Route, request: Request, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    call = meter.open_call("completions", route.name)
    turn = _Turn()
    first = False
    try:
        try:
            await meter.reserve(call, route.config.price, lambda: worst_case(meter, route, request))
        except SwitchyardError:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
            raise
        async for event in events:
            if turn.observe(event):
                if not first:
                    first = True
                    meter.first_token()
            elif isinstance(event, Failure):
                call.outcome, call.error_code = "upstream_error", event.error.code or event.error.kind.value
                _end(call, turn, route, request, meter)  # nothing follows a failure
            yield event
    except SwitchyardError as error:
        if call.outcome == "completed":
            call.outcome, call.error_code = error_outcome(error), error.code or error.kind.value
        raise
    except (asyncio.CancelledError, GeneratorExit):
        if turn.finishes < max(1, request.n):
            call.outcome = meter.left_outcome
        raise
    finally:
        _end(call, turn, route, request, meter)


def _end(call: Call, turn: _Turn, route: Route, request: Request, meter: Meter) -> None:
    if call.ended:
        return
    call.usage, call.counted = turn.usage(request, turn.finishes >= max(1, request.n))
    call.cost_nanousd = cost_nanousd(route.config.price, call.usage)
    observe_cost(nano_to_usd(call.cost_nanousd), route.name)
    meter.end_call(call)


class MeteredEmbedder:
    """An embedder whose calls count for the request running in their context."""

    def __init__(self, inner: Embedder, config: ModelConfig) -> None:
        self.inner = inner
        self.config = config
        self.dimensions = inner.dimensions

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        meter = current_meter()
        if meter is None:
            return await self.inner.embed(texts, dimensions)
        call = meter.open_call("embeddings", self.config.name)
        try:
            await meter.reserve(call, self.config.price, lambda: worst_case_nanousd(
                self.config.price, int(sum(count_text(t) for t in texts) * meter.config.prompt_estimate_margin) + 1, 0))
            result = await self.inner.embed(texts, dimensions)
            call.usage = Usage(input_tokens=result.input_tokens)
            return result
        except SwitchyardError as error:
            if call.outcome == "completed":
                call.outcome, call.error_code = error_outcome(error), error.code or error.kind.value
            raise
        except asyncio.CancelledError:
            call.outcome = meter.left_outcome
            raise
        finally:
            call.cost_nanousd = cost_nanousd(self.config.price, call.usage)
            observe_cost(nano_to_usd(call.cost_nanousd), self.config.name)
            meter.end_call(call)

    async def aclose(self) -> None:
        await self.inner.aclose()
