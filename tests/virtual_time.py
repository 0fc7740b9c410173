"""An event loop on virtual time, for tests of code that waits on the clock
(keep-alive timers, intervals, timeouts).

The clock stands still while any callback is ready to run, and jumps straight to
the next timer when every task is waiting: "0.25 s later" is exact and instant,
whatever the load on the machine, and a timeout fires only when nothing else can
happen first. Meant for coroutines that wait on timers and on each other (no I/O,
no threads): when every task waits and no timer is left, nothing can ever wake
them, and the loop raises ``Deadlock`` instead of hanging; so it does when only
timers keep it going for an hour of virtual time (a task that waits for an event
while a periodic timer re-arms forever)."""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

HORIZON = 3600.0  # virtual seconds; no test here means to wait that long

P = ParamSpec("P")
T = TypeVar("T")


class Deadlock(RuntimeError):
    pass


class _JumpingSelector(selectors.DefaultSelector):
    """Where the loop would block until its next timer, the clock moves there instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise Deadlock("every task is waiting and no timer is left to wake one")
        self.now += timeout
        if self.now > HORIZON:
            raise Deadlock(f"only timers have run for {HORIZON:.0f} virtual seconds")
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual_clock = _JumpingSelector()
        super().__init__(self._virtual_clock)

    def time(self) -> float:
        return self._virtual_clock.now


def run_on_virtual_time(main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            if pending := asyncio.all_tasks(loop):  # left behind by a failure
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def on_virtual_time(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Runs an ``async def`` test on its own ``VirtualTimeLoop`` (a plain test for pytest)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        run_on_virtual_time(test(*args, **kwargs))

    return run
