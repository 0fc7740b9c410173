"""Warm sandboxes and the sessions that use them.

A session is a sandbox bound to an id (a container, an Assistants thread): made on first
use from a sandbox started ahead, kept while it is used, ended after ``idle_seconds``
without a call or by ``end_session``. A session whose sandbox died gets a new one on its
next use (its files are gone then; ``session_started`` tells a caller to put them back)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from switchyard.sandbox.process import Sandbox
from switchyard.sandbox.runtime import Runtime
from switchyard.sandbox.types import ExecResult, FileInfo, SandboxError, SandboxSettings

log = logging.getLogger(__name__)

SessionStarted = Callable[[str, Sandbox], Awaitable[None]]


class SandboxPool:
    """``await pool.start()`` once, ``await pool.aclose()`` at the end; in between every
    method takes a session id and makes the session when it does not exist yet."""

    def __init__(self, settings: SandboxSettings, *, session_started: SessionStarted | None = None) -> None:
        self.settings = settings
        self.session_started = session_started
        self._runtime: Runtime | None = None
        self._warm: list[Sandbox] = []
        self._sessions: dict[str, Sandbox] = {}
        self._opening: dict[str, asyncio.Future[Sandbox]] = {}
        self._refill: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closed = False

    async def start(self) -> None:
        """Check that sandboxes can run here and start warming them (raises ``SandboxError``
        when bubblewrap or the sandbox's Python is missing)."""
        self._runtime = Runtime(self.settings)
        self._refill = asyncio.create_task(self._keep_warm())
        self._reaper = asyncio.create_task(self._reap_idle())

    # -- the API -------------------------------------------------------------------------

    async def execute(self, session_id: str, code: str, *, timeout: float | None = None) -> ExecResult:
        return await (await self.session(session_id)).execute(code, timeout)

    async def put_file(self, session_id: str, path: str, data: bytes) -> FileInfo:
        return await (await self.session(session_id)).put_file(path, data)

    async def get_file(self, session_id: str, path: str) -> bytes:
        return await (await self.session(session_id)).get_file(path)

    async def list_files(self, session_id: str) -> list[FileInfo]:
        return await (await self.session(session_id)).list_files()

    @property
    def warm_ready(self) -> int:
        """Warm sandboxes waiting for a session."""
        return sum(1 for s in self._warm if s.alive)

    def has_session(self, session_id: str) -> bool:
        sandbox = self._sessions.get(session_id)
        return sandbox is not None and sandbox.alive

    async def end_session(self, session_id: str) -> None:
        sandbox = self._sessions.pop(session_id, None)
        if sandbox is not None:
            await sandbox.aclose()

    async def session(self, session_id: str) -> Sandbox:
        """The session's sandbox, made (from a warm one) when it has none or its died."""
        sandbox = self._sessions.get(session_id)
        if sandbox is not None and sandbox.alive:
            return sandbox
        pending = self._opening.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
        self._opening[session_id] = future
        try:
            if sandbox is not None:
                self._sessions.pop(session_id, None)
                await sandbox.aclose()
            live = sum(1 for s in self._sessions.values() if s.alive)
            if live >= self.settings.max_sessions:
                raise SandboxError(f"all {self.settings.max_sessions} sandbox sessions are in use; try again later",
                                   code="busy")
            sandbox = await self._take()
            self._sessions[session_id] = sandbox
            if self.session_started is not None:
                await self.session_started(session_id, sandbox)
            future.set_result(sandbox)
            return sandbox
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: waiters (if any) get it through shield
            raise
        finally:
            self._opening.pop(session_id, None)

    async def aclose(self) -> None:
        self._closed = True
        for task in (self._refill, self._reaper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        sandboxes = self._warm + list(self._sessions.values())
        self._warm, self._sessions = [], {}
        await asyncio.gather(*(s.aclose() for s in sandboxes), return_exceptions=True)
        if self._runtime is not None:
            self._runtime.close()

    # -- inside --------------------------------------------------------------------------

    async def _new(self) -> Sandbox:
        if self._runtime is None or self._closed:
            raise SandboxError("the sandbox pool is not running", code="unavailable")
        sandbox = Sandbox(self._runtime, self.settings.limits)
        await sandbox.start(self.settings.start_seconds)
        return sandbox

    async def _take(self) -> Sandbox:
        while self._warm:
            sandbox = self._warm.pop()
            self._wake.set()
            if sandbox.alive:
                return sandbox
            await sandbox.aclose()
        self._wake.set()
        return await self._new()

    async def _keep_warm(self) -> None:
        failures = 0
        while not self._closed:
            self._warm = [s for s in self._warm if s.alive]
            if len(self._warm) < self.settings.warm:
                try:
                    self._warm.append(await self._new())
                    failures = 0
                except Exception as exc:
                    failures += 1
                    log.warning("could not start a warm sandbox: %s", exc)
                    await asyncio.sleep(min(60.0, 2.0 ** failures))
                continue
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 30.0)

    async def _reap_idle(self) -> None:
        every = max(0.05, min(30.0, self.settings.idle_seconds / 4))
        while not self._closed:
            await asyncio.sleep(every)
            await self.reap()

    async def reap(self, now: float | None = None) -> None:
        """End sessions idle for ``idle_seconds`` (and dead ones)."""
        now = time.monotonic() if now is None else now
        for session_id, sandbox in list(self._sessions.items()):
            locked = sandbox.busy  # a call in progress is not idleness
            if not sandbox.alive or (not locked and now - sandbox.last_used > self.settings.idle_seconds):
                if self._sessions.get(session_id) is sandbox:
                    del self._sessions[session_id]
                await sandbox.aclose()
