"""The bookkeeping of failover, kept out of the event path: a ``Plan`` picks the
deployment for each attempt of one request (tried ones excluded, limits asked,
backoff between attempts) and says how the request ends when none is left; an
``Attempt`` holds back content-free events, judges the outcome for the breaker, and
settles with the gate. ``routed.py`` drives both from one generator."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from switchyard.config import RoutingConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import BlockStart, Event, Failure, Start, UsageReport
from switchyard.core.request import Request
from switchyard.core.usage import Usage
from switchyard.gateway.breaker import REGULAR, Permit
from switchyard.gateway.call_scope import current_scope
from switchyard.gateway.deployment_gate import (
    AttemptObserver,
    DeploymentGate,
    DeploymentsAtLimit,
    GatePass,
    GateRefusal,
)
from switchyard.gateway.deployments import Deployment
from switchyard.gateway.selection import backoff, choose
from switchyard.providers.token_count import estimate_tokens
from switchyard.providers.upstream_errors import retry_after_seconds, retryable, unhealthy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

HELD = (Start, BlockStart, UsageReport)
Sleep = Callable[[float], Awaitable[None]]


class Candidates(Protocol):
    """What a plan needs of a model: its name and the deployments that may take an attempt now."""

    name: str
    deployments: tuple[Deployment, ...]

    def available(self, tried: set[str], solo: bool = False) -> list[Deployment]: ...


@dataclass(slots=True)
class Failed:
    """How an attempt failed, to be passed on as it came if no other attempt succeeds."""

    held: list[Event]
    error: SwitchyardError
    raised: bool


class Attempt:
    def __init__(self, deployment: Deployment, permit: Permit, admission: GatePass, routing: RoutingConfig,
                 observer: AttemptObserver | None = None) -> None:
        self.deployment = deployment
        self._observer = observer
        self._permit = permit
        self._admission = admission
        self._routing = routing
        self.committed = False
        self.error: SwitchyardError | None = None
        self.usage: Usage | None = None
        self.outcome: Failed | None = None
        self._raised = False
        self._held: list[Event] = []
        self._judged = False

    def start(self, request: Request) -> AsyncIterator[Event]:
        self.deployment.in_flight += 1
        self.deployment.requests += 1
        return self.deployment.provider.generate(request)

    def take(self, event: Event) -> Sequence[Event]:
        """What the client gets now for this event (nothing while content-free events are held)."""
        if isinstance(event, Failure):
            self.error = event.error
            return ()
        if isinstance(event, UsageReport):
            self.usage = event.usage
        if self.committed:
            return (event,)
        if isinstance(event, HELD):
            self._held.append(event)
            return ()
        self._commit()
        held, self._held = self._held, []
        held.append(event)
        return held

    def raised(self, error: SwitchyardError) -> None:
        self.error, self._raised = error, True

    def conclude(self) -> Sequence[Event]:
        """The events that end this attempt for the client; sets ``outcome`` when the
        request should go elsewhere; raises a failure the client must get as it came."""
        self._judge()
        error = self.error
        if error is None:
            if not self.committed:  # an answer without content is still this deployment's answer
                self._commit()
            return self._held
        retry = not self.committed and retryable(error)
        if self._observer is not None:
            self._observer.attempt_failed(self.deployment.id, self.deployment.model, error, retry)
        if self.committed:  # the client has part of the answer: end it there, no retry
            return (Failure(error),)
        if retry:
            self.outcome = Failed(self._held, error, self._raised)
            return ()
        if self._raised:
            raise error
        return [*self._held, Failure(error)]

    async def end(self, events: AsyncIterator[Event]) -> None:
        """Always called: frees the slot, closes the upstream answer, settles with the gate."""
        self.deployment.in_flight -= 1
        if not self._judged:
            self.deployment.breaker.released(self._permit)
        try:
            closer = getattr(events, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            try:
                await self._admission.settle(self.usage)
            except Exception:  # the answer stands; the limiter corrects itself
                log.exception("settling deployment %s with the rate limiter failed", self.deployment.id)

    def _commit(self) -> None:
        self.committed = True
        scope = current_scope()
        if scope is not None:
            scope.deployment_id = self.deployment.id

    def _judge(self) -> None:
        self._judged = True
        deployment, error = self.deployment, self.error
        if error is None or not unhealthy(error):
            deployment.breaker.succeeded(self._permit)
            return
        deployment.failures += 1
        rest = retry_after_seconds(error)
        deployment.breaker.failed(self._permit, min(rest, self._routing.retry_after_max) if rest else None)


class Plan:
    """The attempts of one request over a model and its fallbacks (``chain``)."""

    def __init__(self, chain: Sequence[Candidates], request: Request, routing: RoutingConfig,
                 gate: DeploymentGate, rng: random.Random, sleep: Sleep,
                 observer: AttemptObserver | None = None) -> None:
        self._chain = chain
        self._observer = observer
        self._request = request
        self._routing = routing
        self._gate = gate
        self._rng = rng
        self._sleep = sleep
        self._solo = len(chain) == 1 and len(chain[0].deployments) == 1
        self._tried: set[str] = set()
        self._attempts = 0
        self._position = 0
        self._refusals: list[float] = []
        self._estimate: int | None = None
        self.last: Failed | None = None

    async def next_attempt(self) -> Attempt | None:
        while self._position < len(self._chain) and self._attempts < self._routing.max_attempts:
            model = self._chain[self._position]
            deployment = choose(model.available(self._tried, self._solo), self._rng)
            if deployment is None:
                self._position += 1
                continue
            self._tried.add(deployment.id)
            # a solo deployment has nowhere else to go: it is used even while its breaker is open
            permit = deployment.breaker.acquire() or (REGULAR if self._solo else None)
            if permit is None:
                continue
            admission = await self._gate.admit(deployment.limits, self._estimated())
            if isinstance(admission, GateRefusal):
                deployment.breaker.released(permit)
                self._refusals.append(admission.retry_after)
                continue
            self._attempts += 1
            return Attempt(deployment, permit, admission, self._routing, self._observer)
        return None

    async def failed(self, outcome: Failed) -> None:
        self.last = outcome
        more = any(m.available(self._tried) for m in self._chain[self._position:])
        if more and self._attempts < self._routing.max_attempts:
            await self._sleep(backoff(self._attempts + 1, self._routing.backoff_initial,
                                      self._routing.backoff_max, self._rng))

    def give_up(self) -> Sequence[Event]:
        """No attempt answered: the last failure as it came, else why nothing was tried."""
        last = self.last
        if last is None:
            raise self._nothing_available()
        if last.raised:
            raise last.error
        return [*last.held, Failure(last.error)]

    def _estimated(self) -> int:
        if not self._gate.wants_estimate:
            return 0
        if self._estimate is None:
            self._estimate = estimate_tokens(self._request) + (self._request.max_output_tokens or 0)
        return self._estimate

    def _nothing_available(self) -> SwitchyardError:
        name = self._chain[0].name
        if self._refusals:
            return DeploymentsAtLimit(
                ErrorKind.RATE_LIMIT, f"Every deployment of model '{name}' is at its rate limit.",
                code="rate_limit_exceeded", retry_after=str(max(1, math.ceil(min(self._refusals)))))
        deployments = [d for model in self._chain for d in model.deployments]
        if any(d.at_capacity() for d in deployments):
            return DeploymentsAtLimit(
                ErrorKind.RATE_LIMIT, f"Every deployment of model '{name}' is at its concurrency limit.",
                code="rate_limit_exceeded", retry_after="1")
        wait = min((d.breaker.wait() for d in deployments), default=1.0)
        return SwitchyardError(
            ErrorKind.OVERLOADED,
            f"No healthy deployment of model '{name}': every one failed recently and is resting.",
            code="no_healthy_deployment", retry_after=str(max(1, math.ceil(wait))))
