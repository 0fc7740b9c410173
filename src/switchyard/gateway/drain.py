"""A stopping process drains: it takes no new work (``/ready`` answers 503, and its job
runners claim no more queued jobs), and the model turns of requests in flight get until
the drain deadline to finish. A turn still streaming then ends with a ``Failure`` (503,
``overloaded``), which every surface already turns into its format's mid-stream error
event, so a client sees a proper end, never a cut connection.

WebSockets stay open through the drain: each open socket is closed (1012, service restart)
as soon as it has nothing in flight, and whatever is left a moment after the deadline.

Queued jobs already running (batches, background responses, ingestion) are not cut at
the deadline: their runners stop and release them when the process stops, and they go
on in another process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event, Failure

log = logging.getLogger(__name__)

T = TypeVar("T")

SHUTTING_DOWN = "The server is shutting down; retry the request (another server will answer it)."
DEADLINE = "the drain deadline passed"
RESTART_CODE = 1012  # WebSocket close code: service restart
RESTART_REASON = "the server is restarting; reconnect"
SWEEP_SECONDS = 0.1  # how often a draining process looks for sockets with nothing in flight
SOCKET_GRACE_SECONDS = 2.0  # after the deadline, for a socket's last events before it is closed anyway


@dataclass(eq=False)
class DrainedSocket:
    """An open WebSocket: ``idle`` says it has nothing in flight; ``close`` closes it (1012)."""

    idle: Callable[[], bool]
    close: Callable[[], Awaitable[None]]
    closing: bool = False


class Drain:
    """The process's drain state. ``begin`` may be called from a signal handler."""

    def __init__(self) -> None:
        self.draining = False
        self._expired = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.deadline: float | None = None  # the loop's time of the deadline, once draining
        self.waiting: set[asyncio.Task[Any]] = set()  # tasks awaiting a model turn's next event
        self.sockets: set[DrainedSocket] = set()
        self._on_begin: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def on_begin(self, callback: Callable[[], None]) -> None:
        """``callback`` runs on the event loop when the drain begins (job runners stop claiming)."""
        self._on_begin.append(callback)
        if self.deadline is not None:  # it began already
            callback()

    def begin(self, seconds: float) -> None:
        """Stop taking work now; the deadline passes in ``seconds``."""
        if self.draining:
            return
        self.draining = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._start, seconds)

    @property
    def expired(self) -> bool:
        return self._expired

    def _start(self, seconds: float) -> None:
        assert self._loop is not None
        self.deadline = self._loop.time() + seconds
        self._loop.call_at(self.deadline, self._expire)
        for callback in self._on_begin:
            try:
                callback()
            except Exception:
                log.exception("a drain callback failed")
        self._spawn(self._sweep())

    def _expire(self) -> None:
        self._expired = True
        for task in list(self.waiting):
            task.cancel(DEADLINE)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @contextlib.contextmanager
    def socket(self, idle: Callable[[], bool], close: Callable[[], Awaitable[None]]) -> Iterator[None]:
        """The WebSocket served inside stays open through a drain until ``idle``."""
        handle = DrainedSocket(idle, close)
        self.sockets.add(handle)
        try:
            yield
        finally:
            self.sockets.discard(handle)

    async def _sweep(self) -> None:
        assert self._loop is not None and self.deadline is not None
        while True:
            late = self._loop.time() >= self.deadline + SOCKET_GRACE_SECONDS
            for handle in list(self.sockets):
                if not handle.closing and (late or handle.idle()):
                    handle.closing = True
                    self._spawn(_close(handle))
            await asyncio.sleep(SWEEP_SECONDS)


async def _close(handle: DrainedSocket) -> None:
    try:
        await handle.close()
    except Exception:  # the client left meanwhile
        log.debug("closing a WebSocket for the drain failed", exc_info=True)


_current: ContextVar[Drain | None] = ContextVar("switchyard_drain", default=None)


@contextlib.contextmanager
def draining_with(drain: Drain) -> Iterator[None]:
    """The model turns started inside (one HTTP request or WebSocket) end at ``drain``'s deadline."""
    token = _current.set(drain)
    try:
        yield
    finally:
        _current.reset(token)


def shutting_down() -> SwitchyardError:
    return SwitchyardError(ErrorKind.OVERLOADED, SHUTTING_DOWN)


def until_drained(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events``, ended by a ``Failure`` if the request's drain deadline passes first."""
    return until_deadline(events, lambda: Failure(shutting_down()))


def until_deadline(events: AsyncIterator[T], ending: Callable[[], T]) -> AsyncIterator[T]:
    """``events``, ended by ``ending()`` if the request's drain deadline passes first."""
    drain = _current.get()
    if drain is None:
        return events
    return _until(drain, events, ending)


async def _until(drain: Drain, events: AsyncIterator[T], ending: Callable[[], T]) -> AsyncIterator[T]:
    """Awaits each event in its reader's own task (no task per event): at the deadline the
    drain cancels the tasks waiting here, and the cancel becomes the ending."""
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
        yield ending()
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
