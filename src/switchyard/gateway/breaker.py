"""A circuit breaker per deployment: closed until ``failures`` consecutive failures, or
until the failures reach ``ErrorRate.threshold`` of the calls in the last
``ErrorRate.window`` seconds (once there were at least ``ErrorRate.min_calls``), then open
for ``cooldown`` seconds, then half-open: one probe request goes through, and its outcome
closes the breaker or opens it again. An upstream's ``Retry-After`` rests the deployment
for that long whatever the breaker's state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

SLOTS = 10  # the rolling window is counted in this many slots of window / SLOTS seconds each


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


@dataclass(frozen=True, slots=True)
class ErrorRate:
    """Open when ``threshold`` (0 to 1) of the calls in the last ``window`` seconds failed,
    once there were at least ``min_calls`` of them."""

    threshold: float
    window: float = 60.0
    min_calls: int = 20


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """A breaker's settings as a deployment sets them (None: the routing's) or as its
    breaker uses them (the error rate's three None: no error rate)."""

    failures: int | None = None
    cooldown: float | None = None
    error_rate: float | None = None
    window: float | None = None
    min_calls: int | None = None


class _RollingCounts:
    """Calls and failures over the last ``window`` seconds, in ``SLOTS`` slots (the oldest
    slot leaves as a whole: the window is exact to one slot)."""

    __slots__ = ("_calls", "_failures", "_slot", "_width")

    def __init__(self, window: float) -> None:
        self._width = window / SLOTS
        self._calls = [0] * SLOTS
        self._failures = [0] * SLOTS
        self._slot = 0  # absolute number of the newest slot counted in

    def add(self, now: float, failed: bool) -> tuple[int, int]:
        """Counts one call; the window's calls and failures after it."""
        slot = int(now // self._width)
        if slot != self._slot:
            for gone in range(max(self._slot + 1, slot - SLOTS + 1), slot + 1):
                self._calls[gone % SLOTS] = self._failures[gone % SLOTS] = 0
            self._slot = slot
        self._calls[slot % SLOTS] += 1
        self._failures[slot % SLOTS] += failed
        return sum(self._calls), sum(self._failures)

    def clear(self) -> None:
        self._calls = [0] * SLOTS
        self._failures = [0] * SLOTS


class CircuitBreaker:
    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic,
                 error_rate: ErrorRate | None = None) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._rate = error_rate
        self._window = _RollingCounts(error_rate.window) if error_rate is not None else None
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
    def settings(self) -> BreakerSettings:
        rate = self._rate
        if rate is None:
            return BreakerSettings(self._threshold, self._cooldown)
        return BreakerSettings(self._threshold, self._cooldown, rate.threshold, rate.window, rate.min_calls)

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
        if self._opened_at is not None and self._window is not None:
            self._window.clear()  # closing again starts a new window
        elif self._window is not None:
            self._window.add(self._clock(), False)
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
        if (self._threshold and self._consecutive >= self._threshold) or self._rate_reached(now):
            self._opened_at = now
            if self._window is not None:
                self._window.clear()

    def _rate_reached(self, now: float) -> bool:
        if self._window is None or self._rate is None:
            return False
        calls, failures = self._window.add(now, True)
        return calls >= self._rate.min_calls and failures >= self._rate.threshold * calls

    def released(self, permit: Permit) -> None:
        """The attempt ended without a verdict (the client left, or a limit refused it)."""
        if permit.probe:
            self._probing = False
