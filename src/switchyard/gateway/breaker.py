"""A circuit breaker per deployment: closed until ``failures`` consecutive failures,
then open for ``cooldown`` seconds, then half-open: one probe request goes through,
and its outcome closes the breaker or opens it again. An upstream's ``Retry-After``
rests the deployment for that long whatever the breaker's state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Permit:
    """One attempt let through; ``probe`` when it is the half-open probe."""

    probe: bool


REGULAR = Permit(probe=False)
_PROBE = Permit(probe=True)


class CircuitBreaker:
    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False
        self._rest_until = 0.0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._clock() >= self._opened_at + self._cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive

    def available(self) -> bool:
        """Would ``acquire`` let a request through now?"""
        if self._rest_until and self._clock() < self._rest_until:
            return False
        if self._opened_at is None:
            return True
        return self.state is BreakerState.HALF_OPEN and not self._probing

    def wait(self) -> float:
        """Seconds until the deployment may take a request (0 when it may now; an
        estimate while a probe is out)."""
        now = self._clock()
        until = self._rest_until
        if self._opened_at is not None:
            until = max(until, self._opened_at + self._cooldown)
        return max(0.0, until - now)

    def acquire(self) -> Permit | None:
        if not self.available():
            return None
        if self._opened_at is None:
            return REGULAR
        self._probing = True
        return _PROBE

    def succeeded(self, permit: Permit) -> None:
        """Any success closes the breaker: the deployment answers."""
        self._opened_at = None
        self._consecutive = 0
        if permit.probe:
            self._probing = False

    def failed(self, permit: Permit, rest: float | None = None) -> None:
        now = self._clock()
        if rest:
            self._rest_until = max(self._rest_until, now + rest)
        if permit.probe:
            self._probing = False
            self._opened_at = now
            return
        if self._opened_at is not None:
            return  # a request from before the breaker opened
        self._consecutive += 1
        if self._threshold and self._consecutive >= self._threshold:
            self._opened_at = now

    def released(self, permit: Permit) -> None:
        """The attempt ended without a verdict (the client left, or a limit refused it)."""
        if permit.probe:
            self._probing = False
