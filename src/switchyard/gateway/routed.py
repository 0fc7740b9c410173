"""A public model served by its deployments: a ``Provider`` that picks a deployment
for each attempt and fails over to another one (then to the fallback models) when
an attempt fails before any content was produced.

Events that carry no content (``Start``, ``BlockStart``, ``UsageReport``) are held
back until the first content event; then the attempt is committed and every event
passes straight through. An error after that point ends the stream with a
``Failure`` (it is not retried: the client already has part of an answer)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence

from switchyard.config import RoutingConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import Event, Failure, UsageReport
from switchyard.core.request import Request
from switchyard.gateway.attempts import Plan, Sleep
from switchyard.gateway.capabilities import intersect
from switchyard.gateway.deployment_gate import AttemptObserver, DeploymentGate
from switchyard.gateway.deployments import Deployment
from switchyard.providers.base import Capabilities, PartialSchemaEnforcement
from switchyard.providers.upstream_errors import retryable

_SLOW_PATH = (Failure, UsageReport)


class RoutedProvider:
    def __init__(self, name: str, deployments: Sequence[Deployment], routing: RoutingConfig,
                 gate: DeploymentGate, rng: random.Random, fallbacks: Sequence[str] = (),
                 lookup: Callable[[str], RoutedProvider | None] | None = None, sleep: Sleep = asyncio.sleep,
                 observer: AttemptObserver | None = None) -> None:
        self.name = name
        self._observer = observer
        self._routing = routing
        self._gate = gate
        self._rng = rng
        self._fallbacks = tuple(fallbacks)
        self._lookup = lookup
        self._sleep = sleep
        self.deployments: tuple[Deployment, ...] = ()
        self.capabilities = Capabilities()
        self.set_deployments(deployments)

    @property
    def gate(self) -> DeploymentGate:
        """What admits each attempt at its deployment's rate limits."""
        return self._gate

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

    def unenforced(self, request: Request) -> list[str]:
        """Schema keywords some deployment's constrained decoding leaves unchecked
        (``PartialSchemaEnforcement``): the engine validates those answers."""
        lost: set[str] = set()
        for deployment in self.deployments:
            if isinstance(deployment.provider, PartialSchemaEnforcement):
                lost.update(deployment.provider.unenforced(request))
        return sorted(lost)

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
        """This model, then its fallbacks, then theirs, level by level down to
        ``routing.fallback_depth`` levels; each model once (a cycle ends where it closes)."""
        chain = [self]
        level = [self]
        for _ in range(self._routing.fallback_depth):
            deeper: list[RoutedProvider] = []
            for model in level:
                for name in model._fallbacks:
                    found = self._lookup(name) if self._lookup is not None else None
                    if found is not None and found not in chain:
                        chain.append(found)
                        deeper.append(found)
            level = deeper
        return chain

    async def _route(self, request: Request) -> AsyncIterator[Event]:
        plan = Plan(self._chain(), request, self._routing, self._gate, self._rng, self._sleep, self._observer)
        while (attempt := await plan.next_attempt()) is not None:
            events = attempt.start(request)
            try:
                try:
                    async for event in events:
                        if attempt.committed and not isinstance(event, _SLOW_PATH):
                            yield event
                            continue
                        for out in attempt.take(event):
                            yield out
                        if attempt.error is not None:
                            break
                except SwitchyardError as exc:
                    attempt.raised(exc)
                for out in attempt.conclude():
                    yield out
            finally:
                await attempt.end(events)
            if attempt.outcome is None:
                return
            await plan.failed(attempt.outcome)
        for out in plan.give_up():
            yield out
