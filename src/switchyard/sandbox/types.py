"""What the sandbox API takes and gives (docs/sandbox.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ExecStatus = Literal["ok", "error", "timeout", "killed"]


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """What one sandbox may use. ``cpu_seconds``, ``memory_bytes``, ``processes``,
    ``file_bytes`` and ``open_files`` are rlimits of the kernel process (and what it
    starts); ``wall_seconds`` bounds one call; ``output_bytes`` each of stdout and stderr
    kept from one call; ``disk_bytes`` the size of ``/mnt/data`` and ``tmp_bytes`` of ``/tmp``
    (both in memory)."""

    cpu_seconds: int = 30
    memory_bytes: int = 1024 * 1024**2
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    wall_seconds: float = 60.0
    output_bytes: int = 64 * 1024
    disk_bytes: int = 512 * 1024**2
    tmp_bytes: int = 128 * 1024**2
    max_images: int = 8
    image_bytes: int = 8 * 1024**2  # all images of one call together


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """A pool: ``warm`` sandboxes started ahead, at most ``max_sessions`` live sessions,
    each ended after ``idle_seconds`` without a call."""

    limits: SandboxLimits = field(default_factory=SandboxLimits)
    warm: int = 1
    max_sessions: int = 16
    idle_seconds: float = 20 * 60.0
    start_seconds: float = 30.0  # a sandbox not ready by then failed to start
    bwrap: str = "bwrap"
    python: str = "/usr/bin/python3"
    user: int | None = None  # host uid to run sandboxes as when the server is root (default: nobody)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file under ``/mnt/data``: ``path`` is relative to it."""

    path: str
    size: int
    modified: float  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class ExecError:
    """An exception the code raised: its class name, message and formatted traceback."""

    name: str
    value: str
    traceback: str


@dataclass(frozen=True, slots=True)
class ExecResult:
    """One call: ``status`` is ``ok``, ``error`` (the code raised: ``error``), ``timeout``
    (wall clock) or ``killed`` (a limit or the code itself ended the kernel: ``reason``).
    After ``timeout`` or ``killed`` the session's variables are gone; its files remain.
    ``result`` is the repr of the last expression (as a notebook shows it); ``images``
    are PNGs of the matplotlib figures the code left open; ``files`` are those it created
    or changed under ``/mnt/data``."""

    status: ExecStatus
    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    error: ExecError | None = None
    images: list[bytes] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)
    reason: str | None = None
    seconds: float = 0.0

    @property
    def logs(self) -> str:
        """What a reader of the call sees: stdout, stderr, the result, the traceback or why
        it was stopped."""
        parts = [self.stdout, self.stderr]
        if self.result is not None:
            parts.append(self.result)
        if self.error is not None:
            parts.append(self.error.traceback)
        if self.reason is not None:
            parts.append(self.reason)
        return "\n".join(p.rstrip("\n") for p in parts if p)


class SandboxError(Exception):
    """The sandbox could not do what was asked (not installed, failed to start, a bad
    path, a missing file, too many sessions)."""

    def __init__(self, message: str, *, code: str = "sandbox_error") -> None:
        super().__init__(message)
        self.code = code
