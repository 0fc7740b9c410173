"""A stopping process drains: it takes no new work (``/ready`` answers 503), and the model
turns of requests in flight get until the drain deadline to finish. A turn still streaming
then ends with a ``Failure`` (503, ``overloaded``), which every surface already turns into
its format's mid-stream error event, so a client sees a proper end, never a cut connection.

Only the turns of HTTP requests are cut: queued jobs (batches, background responses,
ingestion) are stopped and released by their runners when the process stops, and go on
in another process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event, Failure

SHUTTING_DOWN = "The server is shutting down; retry the request (another server will answer it)."
DEADLINE = "the drain deadline passed"


class Drain:
    """The process's drain state. ``begin`` may be called from a signal handler."""

    def __init__(self) -> None:
        self.draining = False
        self._expired = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.waiting: set[asyncio.Task[Any]] = set()  # tasks awaiting a model turn's next event

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def begin(self, seconds: float) -> None:
        """Stop taking work now; the deadline passes in ``seconds``."""
        if self.draining:
            return
        self.draining = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.call_later, seconds, self._expire)

    @property
    def expired(self) -> bool:
        return self._expired

    def _expire(self) -> None:
        self._expired = True
        for task in list(self.waiting):
            task.cancel(DEADLINE)


_current: ContextVar[Drain | None] = ContextVar("switchyard_drain", default=None)


@contextlib.contextmanager
def draining_with(drain: Drain) -> Iterator[None]:
    """The model turns started inside (one HTTP request) end at ``drain``'s deadline."""
    token = _current.set(drain)
    try:
        yield
    finally:
        _current.reset(token)


def shutting_down() -> SwitchyardError:
    return SwitchyardError(ErrorKind.OVERLOADED, SHUTTING_DOWN)


def until_drained(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events``, ended by a ``Failure`` if the request's drain deadline passes first."""
    drain = _current.get()
    if drain is None:
        return events
    return _until(drain, events)


async def _until(drain: Drain, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """Awaits each event in its reader's own task (no task per event): at the deadline the
    drain cancels the tasks waiting here, and the cancel becomes the ``Failure``."""
    try:
        while not drain.expired:
            task = asyncio.current_task()  # each event may be awaited by another task
            assert task is not None
            drain.waiting.add(task)
            try:
                event = await anext(events)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if not drain.expired or task.cancelling() != 1:  # not (only) the drain's cancel
                    raise
                task.uncancel()
                break
            finally:
                drain.waiting.discard(task)
            yield event
            if isinstance(event, Failure):
                return
        yield Failure(shutting_down())
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
