"""A public model served by its deployments: a ``Provider`` that picks a deployment
for each attempt and fails over to another one (then to the fallback models) when
an attempt fails before any content was produced.

Events that carry no content (``Start``, ``BlockStart``, ``UsageReport``) are held
back until the first content event; then the attempt is committed and every event
passes straight through. An error after that point ends the stream with a
``Failure`` (it is not retried: the client already has part of an answer)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from switchyard.config import RoutingConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import BlockStart, Event, Failure, Start, UsageReport
from switchyard.core.request import Request
from switchyard.core.usage import Usage
from switchyard.gateway.breaker import REGULAR, Permit
from switchyard.gateway.call_scope import current_scope
from switchyard.gateway.capabilities import intersect
from switchyard.gateway.deployment_gate import DeploymentGate, GatePass, GateRefusal
from switchyard.gateway.deployments import Deployment
from switchyard.gateway.selection import backoff, choose
from switchyard.providers.base import Capabilities
from switchyard.providers.token_count import estimate_tokens
from switchyard.providers.upstream_errors import retry_after_seconds, retryable, unhealthy

HELD = (Start, BlockStart, UsageReport)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Failed:
    """How the last attempt failed, to be passed on as it came if no other succeeds."""

    held: list[Event]
    error: SwitchyardError
    raised: bool


class RoutedProvider:
    def __init__(self, name: str, deployments: Sequence[Deployment], routing: RoutingConfig,
                 gate: DeploymentGate, rng: random.Random, fallbacks: Sequence[str] = (),
                 lookup: Callable[[str], RoutedProvider | None] | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.name = name
        self._routing = routing
        self._gate = gate
        self._rng = rng
        self._fallbacks = tuple(fallbacks)
        self._lookup = lookup
        self._sleep = sleep
        self.deployments: tuple[Deployment, ...] = ()
        self.capabilities = Capabilities()
        self.set_deployments(deployments)

    def set_deployments(self, deployments: Sequence[Deployment]) -> None:
        """Swaps the deployment list (requests under way keep the one they started with)."""
        if not deployments:
            raise ValueError(f"model {self.name} needs at least one deployment")
        ordered = sorted(deployments, key=lambda d: d.priority)
        self.deployments = tuple(ordered)
        self.capabilities = intersect([d.provider.capabilities for d in ordered])

    def available(self, tried: set[str], solo: bool = False) -> list[Deployment]:
        """Deployments that may take an attempt now. A ``solo`` deployment (the only one
        the request could go to) is used even while its breaker is open: with nowhere
        else to go, the client is better served by the upstream's answer."""
        return [d for d in self.deployments
                if d.id not in tried and not d.at_capacity() and (solo or d.breaker.available())]

    def generate(self, request: Request) -> AsyncIterator[Event]:
        return self._route(request)

    async def count_tokens(self, request: Request) -> int:
        last: SwitchyardError | None = None
        for deployment in self.available(set()) or list(self.deployments):
            try:
                return await deployment.provider.count_tokens(request)
            except SwitchyardError as exc:
                if not retryable(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    async def start(self) -> None:
        for deployment in self.deployments:
            start = getattr(deployment.provider, "start", None)
            if start is not None:
                await start()

    async def aclose(self) -> None:
        for deployment in self.deployments:
            await deployment.provider.aclose()

    def _chain(self) -> list[RoutedProvider]:
        chain = [self]
        for name in self._fallbacks:
            model = self._lookup(name) if self._lookup is not None else None
            if model is not None and model not in chain:
                chain.append(model)
        return chain

    async def _admit(self, deployment: Deployment, request: Request, estimate: list[int]) -> GatePass | GateRefusal:
        if self._gate.wants_estimate and not estimate:
            estimate.append(estimate_tokens(request) + (request.max_output_tokens or 0))
        return await self._gate.admit(deployment.limits, estimate[0] if estimate else 0)

    async def _route(self, request: Request) -> AsyncIterator[Event]:
        tried: set[str] = set()
        attempts = 0
        last: _Failed | None = None
        refusals: list[float] = []
        estimate: list[int] = []
        chain = self._chain()
        solo = len(chain) == 1 and len(self.deployments) == 1
        for model in chain:
            while attempts < self._routing.max_attempts:
                deployment = choose(model.available(tried, solo), self._rng)
                if deployment is None:
                    break
                tried.add(deployment.id)
                permit = deployment.breaker.acquire() or (REGULAR if solo else None)
                if permit is None:
                    continue
                admission = await self._admit(deployment, request, estimate)
                if isinstance(admission, GateRefusal):
                    deployment.breaker.released(permit)
                    refusals.append(admission.retry_after)
                    continue
                attempts += 1
                attempt = _Attempt(deployment, permit, admission, self._routing)
                async with contextlib.aclosing(attempt.run(request)) as events:
                    async for event in events:
                        yield event
                if attempt.outcome is None:
                    return
                last = attempt.outcome
                if attempts < self._routing.max_attempts and any(m.available(tried) for m in chain):
                    await self._sleep(backoff(attempts + 1, self._routing.backoff_initial,
                                              self._routing.backoff_max, self._rng))
        if last is None:
            raise self._nothing_available(chain, refusals)
        if last.raised:
            raise last.error
        for event in last.held:
            yield event
        yield Failure(last.error)

    def _nothing_available(self, chain: list[RoutedProvider], refusals: list[float]) -> SwitchyardError:
        if refusals:
            return SwitchyardError(
                ErrorKind.RATE_LIMIT, f"Every deployment of model '{self.name}' is at its rate limit.",
                code="rate_limit_exceeded", retry_after=str(max(1, math.ceil(min(refusals)))))
        deployments = [d for model in chain for d in model.deployments]
        if any(d.at_capacity() for d in deployments):
            return SwitchyardError(
                ErrorKind.RATE_LIMIT, f"Every deployment of model '{self.name}' is at its concurrency limit.",
                code="rate_limit_exceeded", retry_after="1")
        wait = min((d.breaker.wait() for d in deployments), default=1.0)
        return SwitchyardError(
            ErrorKind.OVERLOADED,
            f"No healthy deployment of model '{self.name}': every one failed recently and is resting.",
            code="no_healthy_deployment", retry_after=str(max(1, math.ceil(wait))))


class _Attempt:
    """One attempt on one deployment. ``run`` yields what the client should get now;
    afterwards ``outcome`` is None when the attempt answered (or ended the stream),
    else how it failed, for the router to try elsewhere."""

    def __init__(self, deployment: Deployment, permit: Permit, admission: GatePass, routing: RoutingConfig) -> None:
        self._deployment = deployment
        self._permit = permit
        self._admission = admission
        self._routing = routing
        self.outcome: _Failed | None = None
        self._held: list[Event] = []
        self._committed = False
        self._error: SwitchyardError | None = None
        self._raised = False
        self._usage: Usage | None = None

    async def run(self, request: Request) -> AsyncGenerator[Event, None]:
        deployment = self._deployment
        deployment.in_flight += 1
        deployment.requests += 1
        verdict = False
        events = deployment.provider.generate(request)
        try:
            async for event in self._relay(events):
                yield event
            verdict = True
            self._judge(self._error)
            async for event in self._conclude():
                yield event
        finally:
            deployment.in_flight -= 1
            if not verdict:
                deployment.breaker.released(self._permit)
            closer = getattr(events, "aclose", None)
            if closer is not None:
                await closer()
            await self._admission.settle(self._usage)

    async def _relay(self, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
        """The deployment's events, held back until the first one with content."""
        try:
            async for event in events:
                if isinstance(event, UsageReport):
                    self._usage = event.usage
                if isinstance(event, Failure):
                    self._error = event.error
                    return
                if not self._committed:
                    if isinstance(event, HELD):
                        self._held.append(event)
                        continue
                    self._committed = True
                    _served_by(self._deployment)
                    for waiting in self._held:
                        yield waiting
                yield event
        except SwitchyardError as exc:
            self._error, self._raised = exc, True

    async def _conclude(self) -> AsyncIterator[Event]:
        error = self._error
        if error is None:
            if not self._committed:  # an answer without content: still this deployment's answer
                _served_by(self._deployment)
                for waiting in self._held:
                    yield waiting
            return
        if self._committed:  # the client has part of the answer: end it, no retry
            yield Failure(error)
            return
        if retryable(error):
            self.outcome = _Failed(self._held, error, self._raised)
            return
        if self._raised:
            raise error
        for waiting in self._held:
            yield waiting
        yield Failure(error)

    def _judge(self, error: SwitchyardError | None) -> None:
        deployment = self._deployment
        if error is None or not unhealthy(error):
            deployment.breaker.succeeded(self._permit)
            return
        deployment.failures += 1
        rest = retry_after_seconds(error)
        deployment.breaker.failed(self._permit, min(rest, self._routing.retry_after_max) if rest else None)


def _served_by(deployment: Deployment) -> None:
    scope = current_scope()
    if scope is not None:
        scope.deployment_id = deployment.id
