"""One sandbox: a bubblewrap process running the supervisor and its kernel, spoken to in
line-delimited JSON. One call at a time; everything that comes back is untrusted."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import logging
import os
import signal
import time
from collections import deque
from typing import Any

from switchyard.sandbox.command import ENV, bwrap_argv
from switchyard.sandbox.runtime import Runtime
from switchyard.sandbox.types import ExecError, ExecResult, FileInfo, SandboxError, SandboxLimits

log = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024  # bytes per put/get message (the kernel's own cap)
_LINE_LIMIT = 32 * 1024 * 1024  # a longer line from the sandbox ends it
_STOP_GRACE = 5.0  # after a stop request, the supervisor has this long to report
_EXIT_SIGNALS = {signal.SIGXCPU: "CPU time limit reached", signal.SIGKILL: "killed",
                 signal.SIGXFSZ: "file size limit reached", signal.SIGSEGV: "crashed (segmentation fault)"}
_Closed = object()


class Sandbox:
    """Start with ``start()``; ``execute``, ``put_file``, ``get_file``, ``list_files``;
    ``aclose()`` kills it. ``alive`` turns False once it died (then make another)."""

    def __init__(self, runtime: Runtime, limits: SandboxLimits) -> None:
        self.limits = limits
        self._runtime = runtime
        self._proc: asyncio.subprocess.Process | None = None
        self._control: int | None = None
        self._messages: asyncio.Queue[Any] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._stderr: deque[bytes] = deque(maxlen=32)
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self.alive = False
        self.last_used = time.monotonic()

    @property
    def busy(self) -> bool:
        """A call is running (or waiting for one that is)."""
        return self._lock.locked()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def start(self, timeout: float = 30.0) -> None:
        control_r, control_w = os.pipe()
        seccomp = self._runtime.open_seccomp()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._runtime.drop_privileges(),
                *bwrap_argv(self._runtime.bwrap, self._runtime.python, self._runtime.scripts, self.limits,
                            control_r, seccomp),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                pass_fds=(control_r,) if seccomp is None else (control_r, seccomp), cwd="/", env=dict(ENV),
                limit=_LINE_LIMIT, start_new_session=True)
        except BaseException:
            os.close(control_w)
            raise
        finally:
            os.close(control_r)
            if seccomp is not None:
                os.close(seccomp)
        self._control = control_w
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._drain_stderr())]
        try:
            await self._expect_ready(timeout)
        except BaseException:
            await self.aclose()
            raise
        self.alive = True

    async def _expect_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            msg = await self._next(deadline)
            if msg is _Closed:
                raise SandboxError(f"the sandbox failed to start: {self._stderr_text() or 'it exited'}")
            if msg is None:
                raise SandboxError("the sandbox did not start in time")
            if msg.get("type") == "ready":
                return
            if msg.get("type") == "exit":
                raise SandboxError(f"the sandbox's kernel failed to start ({_exit_reason(msg)}): "
                                   f"{self._stderr_text()}")

    def _stderr_text(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace").strip()[-2000:]

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stream = self._proc.stdout
        try:
            while True:
                line = await stream.readline()
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    msg = _loads(line)
                except ValueError:
                    continue
                if isinstance(msg, dict):
                    await self._messages.put(msg)
        except (ValueError, asyncio.LimitOverrunError):
            log.warning("sandbox %s sent an overlong line; killing it", self.pid)
            self._kill()
        finally:
            self.alive = False
            await self._messages.put(_Closed)

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(4096):
            self._stderr.append(chunk[:512])

    async def _next(self, deadline: float) -> Any:
        """The next message, ``_Closed`` once the sandbox is gone, None at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self._messages.get(), remaining)
        except TimeoutError:
            return None

    async def _request(self, op: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its reply; the kernel's death or the deadline
        ends with ``_Stopped``."""
        if not self.alive or self._proc is None or self._proc.stdin is None:
            raise _Stopped("dead", None)
        ident = next(self._ids)
        self._proc.stdin.write(_dumps({**op, "id": ident}) + b"\n")
        try:
            await self._proc.stdin.drain()
        except (ConnectionError, BrokenPipeError) as exc:
            raise _Stopped("dead", None) from exc
        deadline = time.monotonic() + timeout
        while True:
            msg = await self._next(deadline)
            if msg is None:
                raise _Stopped("timeout", None)
            if msg is _Closed:
                raise _Stopped("dead", None)
            if msg.get("type") == "exit":
                await self._await_ready()
                raise _Stopped("killed", msg)
            if msg.get("type") == "reply" and msg.get("id") == ident:
                return msg

    async def _await_ready(self) -> None:
        """After the kernel died: wait for the new one (or give the sandbox up)."""
        deadline = time.monotonic() + 60.0
        while True:
            msg = await self._next(deadline)
            if msg is None or msg is _Closed:
                self._kill()
                return
            if msg.get("type") == "ready":
                return
            if msg.get("type") == "exit":  # the new kernel died at once
                self._kill()
                return

    async def _stop_call(self) -> None:
        """The wall clock ran out: the supervisor kills the kernel and starts a new one."""
        try:
            assert self._control is not None
            os.write(self._control, b"k")
        except OSError:
            self._kill()
            return
        deadline = time.monotonic() + _STOP_GRACE
        while True:
            msg = await self._next(deadline)
            if msg is None or msg is _Closed:
                self._kill()
                return
            if msg.get("type") == "exit":
                await self._await_ready()
                return

    async def execute(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run ``code`` in the session's globals (see ``ExecResult``)."""
        wall = min(timeout, self.limits.wall_seconds) if timeout else self.limits.wall_seconds
        async with self._lock:
            self.last_used = time.monotonic()
            started = time.monotonic()
            try:
                reply = await self._request({"op": "exec", "code": code}, wall)
            except _Stopped as stop:
                if stop.kind == "timeout":
                    await self._stop_call()
                    return ExecResult("timeout", reason=f"Execution stopped: it ran past the {wall:g} s time limit; "
                                      "the session's variables were reset, its files kept.",
                                      seconds=time.monotonic() - started)
                why = _exit_reason(stop.message) if stop.message else "the sandbox ended"
                return ExecResult("killed", reason=f"Execution stopped: {why}; the session's variables were reset"
                                  + (", its files kept." if self.alive else " and its files lost."),
                                  seconds=time.monotonic() - started)
            finally:
                self.last_used = time.monotonic()
            return _exec_result(reply, self.limits)

    async def put_file(self, path: str, data: bytes) -> FileInfo:
        """Write ``data`` to ``/mnt/data/<path>`` (directories made as needed)."""
        async with self._lock:
            self.last_used = time.monotonic()
            reply: dict[str, Any] = {}
            for offset in range(0, max(len(data), 1), CHUNK):
                chunk = data[offset:offset + CHUNK]
                reply = await self._file_op({"op": "put", "path": path, "append": offset > 0,
                                             "data": base64.b64encode(chunk).decode()})
            return _file_info(reply.get("file"))

    async def get_file(self, path: str, max_bytes: int | None = None) -> bytes:
        """The bytes of ``/mnt/data/<path>``."""
        limit = max_bytes if max_bytes is not None else self.limits.file_bytes
        async with self._lock:
            self.last_used = time.monotonic()
            out = bytearray()
            while True:
                reply = await self._file_op({"op": "get", "path": path, "offset": len(out), "size": CHUNK})
                try:
                    chunk = base64.b64decode(str(reply.get("data", "")), validate=True)
                except binascii.Error as exc:
                    raise SandboxError("the sandbox sent a damaged file") from exc
                out += chunk
                if len(out) > limit:
                    raise SandboxError(f"file '{path}' is larger than {limit} bytes", code="too_large")
                total = reply.get("total")
                if not chunk or not isinstance(total, int) or len(out) >= total:
                    return bytes(out)

    async def list_files(self) -> list[FileInfo]:
        """Every file under ``/mnt/data`` (up to a thousand)."""
        async with self._lock:
            self.last_used = time.monotonic()
            reply = await self._file_op({"op": "list"})
            files = reply.get("files")
            return [_file_info(f) for f in files] if isinstance(files, list) else []

    async def _file_op(self, op: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = await self._request(op, 30.0)
        except _Stopped as stop:
            if stop.kind == "timeout":
                await self._stop_call()
            raise SandboxError("the sandbox did not answer") from None
        if not reply.get("ok"):
            code = "not_found" if reply.get("code") == "not_found" else "invalid_path"
            raise SandboxError(str(reply.get("error", "the sandbox refused"))[:500], code=code)
        return reply

    def _kill(self) -> None:
        self.alive = False
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def aclose(self) -> None:
        """Kill the sandbox; its files go with it."""
        self.alive = False
        if self._control is not None:
            with contextlib.suppress(OSError):
                os.close(self._control)
            self._control = None
        self._kill()
        if self._proc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._proc.wait(), 10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task


class _Stopped(Exception):
    def __init__(self, kind: str, message: dict[str, Any] | None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.message = message


def _loads(line: bytes) -> Any:
    return json.loads(line)


def _dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


def _exit_reason(msg: dict[str, Any] | None) -> str:
    if not msg:
        return "the sandbox ended"
    if msg.get("stopped"):
        return "stopped"
    sig = msg.get("signal")
    if isinstance(sig, int):
        with contextlib.suppress(ValueError):
            return _EXIT_SIGNALS.get(signal.Signals(sig), f"killed by signal {signal.Signals(sig).name}")
        return f"killed by signal {sig}"
    return f"the kernel exited with code {msg.get('code')}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _file_info(value: Any) -> FileInfo:
    if not isinstance(value, dict):
        raise SandboxError("the sandbox sent a damaged file listing")
    path, size, modified = value.get("path"), value.get("size"), value.get("modified")
    if not isinstance(path, str) or not isinstance(size, int) or not isinstance(modified, (int, float)):
        raise SandboxError("the sandbox sent a damaged file listing")
    return FileInfo(path=path, size=size, modified=float(modified))


def _exec_result(reply: dict[str, Any], limits: SandboxLimits) -> ExecResult:
    cap = limits.output_bytes + 100
    error = reply.get("error")
    exec_error = None
    if isinstance(error, dict):
        exec_error = ExecError(_text(error.get("name"))[:200], _text(error.get("value"))[:cap],
                               _text(error.get("traceback"))[:cap])
    images: list[bytes] = []
    raw_images = reply.get("images")
    for item in raw_images[:limits.max_images] if isinstance(raw_images, list) else []:
        with contextlib.suppress(binascii.Error, TypeError):
            data = base64.b64decode(item, validate=True)
            if data.startswith(b"\x89PNG\r\n\x1a\n"):
                images.append(data)
    files: list[FileInfo] = []
    raw_files = reply.get("files")
    for item in raw_files if isinstance(raw_files, list) else []:
        with contextlib.suppress(SandboxError):
            files.append(_file_info(item))
    result = reply.get("result")
    seconds = reply.get("seconds")
    return ExecResult("error" if exec_error else "ok", stdout=_text(reply.get("stdout"))[:cap],
                      stderr=_text(reply.get("stderr"))[:cap],
                      result=result[:cap] if isinstance(result, str) else None, error=exec_error,
                      images=images, files=files, seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0)
