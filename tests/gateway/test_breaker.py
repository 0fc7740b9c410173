"""The circuit breaker's states on a clock the test moves."""

from __future__ import annotations

from switchyard.gateway.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        permit = breaker.acquire()
        assert permit is not None
        breaker.failed(permit)


def test_opens_after_consecutive_failures_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failures=3, cooldown=10, clock=Clock())
    _fail(breaker, 2)
    ok = breaker.acquire()
    assert ok is not None
    breaker.succeeded(ok)
    _fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED and breaker.available()
    _fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.available() and breaker.acquire() is None
    assert breaker.wait() == 10


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    _fail(breaker, 1)
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    probe = breaker.acquire()
    assert probe is not None and probe.probe
    assert breaker.acquire() is None  # one probe at a time
    breaker.succeeded(probe)
    assert breaker.state is BreakerState.CLOSED
    permit = breaker.acquire()
    assert permit is not None and not permit.probe


def test_failed_probe_opens_again_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    _fail(breaker, 1)
    clock.now += 11
    probe = breaker.acquire()
    assert probe is not None
    breaker.failed(probe)
    assert breaker.state is BreakerState.OPEN
    clock.now += 9
    assert breaker.acquire() is None
    clock.now += 1
    assert breaker.acquire() is not None


def test_abandoned_probe_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=5, clock=clock)
    _fail(breaker, 1)
    clock.now += 5
    probe = breaker.acquire()
    assert probe is not None
    breaker.released(probe)
    assert breaker.acquire() is not None


def test_retry_after_rests_the_deployment_even_when_closed() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=5, cooldown=30, clock=clock)
    permit = breaker.acquire()
    assert permit is not None
    breaker.failed(permit, rest=2)
    assert breaker.state is BreakerState.CLOSED and not breaker.available()
    assert breaker.wait() == 2
    clock.now += 2
    assert breaker.available()


def test_zero_threshold_never_opens() -> None:
    breaker = CircuitBreaker(failures=0, cooldown=1, clock=Clock())
    _fail(breaker, 50)
    assert breaker.state is BreakerState.CLOSED
