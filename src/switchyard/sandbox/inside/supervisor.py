"""PID 1 of a sandbox: starts the kernel with its rlimits, and starts it again when it dies.

Being the PID namespace's init, nothing inside the sandbox can signal it (the kernel
ignores SIGKILL and unhandled signals sent to a namespace's init from within). The host
writes one byte to its control fd to stop a running call: every process but this one is killed and
a fresh kernel starts; the files under /mnt/data stay. EOF on it ends the sandbox.

To the host it writes (on fd 1, which the kernel shares for its replies) one line
``{"type": "exit", ...}`` each time the kernel ends."""

import contextlib
import ctypes
import errno
import json
import os
import resource
import select
import signal
import sys

CONTROL_FD = 3  # replaced by the host's choice (argv)


def _no_ptrace() -> None:
    with contextlib.suppress(Exception):  # PR_SET_DUMPABLE 0: the same uid cannot ptrace this process
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)


def _start_kernel(python: str, kernel: str, limits: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:
        os.close(CONTROL_FD)
        os.setsid()
        for name, value in (("RLIMIT_CPU", limits["cpu_seconds"]), ("RLIMIT_AS", limits["memory_bytes"]),
                            ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_FSIZE", limits["file_bytes"]),
                            ("RLIMIT_NOFILE", limits["open_files"]), ("RLIMIT_CORE", 0)):
            # CPU: the kernel moves the soft limit (SIGXCPU) before each call; the hard one
            # (SIGKILL) bounds the kernel's whole life
            hard = value * 10 + 1 if name == "RLIMIT_CPU" else value
            resource.setrlimit(getattr(resource, name), (value, hard))
        os.execv(python, [python, "-I", "-B", kernel, json.dumps(limits)])
    finally:
        os._exit(127)


def _kill_all() -> None:
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)  # everything this uid may signal, but not init (this process)


def _reap() -> dict[int, int]:
    done = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done[pid] = status


def _describe(status: int) -> dict:
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"code": os.WEXITSTATUS(status)}


def _say(message: dict) -> None:
    data = b"\n" + json.dumps(message).encode() + b"\n"  # after any half-written kernel line
    while data:
        try:
            data = data[os.write(1, data):]
        except InterruptedError:
            continue


def main() -> None:
    global CONTROL_FD
    python, kernel, limits, CONTROL_FD = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    os.set_inheritable(CONTROL_FD, False)
    _no_ptrace()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    while True:
        pid = _start_kernel(python, kernel, limits)
        stopped = False
        status = None
        while status is None:
            try:
                ready, _, _ = select.select([CONTROL_FD, wake_r], [], [], 5.0)
            except InterruptedError:
                ready = []
            if CONTROL_FD in ready:
                data = os.read(CONTROL_FD, 64)
                if not data:
                    _kill_all()
                    return
                stopped = True
                _kill_all()
            if wake_r in ready:
                try:
                    os.read(wake_r, 512)
                except OSError as e:
                    if e.errno != errno.EAGAIN:
                        raise
            status = _reap().get(pid)
        _kill_all()  # what the code left running goes with the kernel
        _reap()
        _say({"type": "exit", "stopped": stopped, **_describe(status)})


if __name__ == "__main__":
    main()
