"""The circuit breaker's states on a clock the test moves."""

from __future__ import annotations

from switchyard.gateway.breaker import BreakerState, CircuitBreaker, ErrorRate


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


def _rated(failures: int, min_calls: int) -> tuple[Clock, CircuitBreaker]:
    """A breaker that opens at half of a minute's calls, once there were ``min_calls``."""
    clock = Clock()
    return clock, CircuitBreaker(failures=failures, cooldown=10, clock=clock,
                                 error_rate=ErrorRate(threshold=0.5, window=60, min_calls=min_calls))


def _calls(breaker: CircuitBreaker, outcomes: str) -> None:
    """``outcomes``: one letter a call, F failed, S succeeded."""
    for outcome in outcomes:
        permit = breaker.acquire()
        assert permit is not None
        if outcome == "F":
            breaker.failed(permit)
        else:
            breaker.succeeded(permit)


def test_the_error_rate_opens_the_breaker_once_the_window_has_enough_calls() -> None:
    _, breaker = _rated(failures=0, min_calls=6)
    _calls(breaker, "FSFF")  # 3 of 4 failed, but fewer than 6 calls: no verdict yet
    assert breaker.state is BreakerState.CLOSED
    _calls(breaker, "S")
    assert breaker.state is BreakerState.CLOSED
    _calls(breaker, "F")  # 4 of 6
    assert breaker.state is BreakerState.OPEN and breaker.wait() == 10


def test_below_the_rate_it_stays_closed_and_consecutive_failures_still_count() -> None:
    _, breaker = _rated(failures=3, min_calls=4)
    _calls(breaker, "SSFSSFSSF")  # a third failed
    assert breaker.state is BreakerState.CLOSED
    _calls(breaker, "FF")  # three in a row
    assert breaker.state is BreakerState.OPEN


def test_old_calls_leave_the_window() -> None:
    clock, breaker = _rated(failures=0, min_calls=4)
    _calls(breaker, "FFS")
    clock.now += 61  # those three are out of the window
    _calls(breaker, "SSSF")  # 1 of 4 now, not 3 of 7
    assert breaker.state is BreakerState.CLOSED
    _calls(breaker, "F")  # 2 of 5
    assert breaker.state is BreakerState.CLOSED
    _calls(breaker, "F")  # 3 of 6
    assert breaker.state is BreakerState.OPEN


def test_after_the_probe_closes_it_the_window_starts_afresh() -> None:
    clock, breaker = _rated(failures=0, min_calls=2)
    _calls(breaker, "FF")
    assert breaker.state is BreakerState.OPEN
    clock.now += 10
    probe = breaker.acquire()
    assert probe is not None and probe.probe
    breaker.succeeded(probe)
    assert breaker.state is BreakerState.CLOSED
    _calls(breaker, "SF")  # 1 of 2 after closing: the failures before it do not count
    assert breaker.state is BreakerState.OPEN  # 0.5 reaches the threshold
    clock.now += 10
    probe = breaker.acquire()
    assert probe is not None
    breaker.failed(probe)  # a failed probe opens it again, as with consecutive failures
    assert breaker.state is BreakerState.OPEN
