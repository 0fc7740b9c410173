"""The REPL kernel: runs code sent by the host and keeps its globals between calls.

Line-delimited JSON on the two protocol fds (stdin and stdout when it starts; moved to
fds the code is unlikely to touch, while fds 0, 1 and 2 become /dev/null and per-call
capture files). Requests: ``{"id", "op": "exec", "code"}``, ``{"id", "op": "put", "path",
"data", "append"}``, ``{"id", "op": "get", "path", "offset", "size"}``, ``{"id", "op":
"list"}``. Each gets one ``{"type": "reply", "id", ...}``. Anything the code does inside
is the sandbox's business; the host trusts none of what comes back."""

import ast
import base64
import builtins
import contextlib
import io
import json
import os
import resource
import signal
import sys
import time
import traceback

DATA = "/mnt/data"
MAX_LISTED = 1000
CHUNK = 4 * 1024 * 1024

LIMITS = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
CPU_SECONDS = int(LIMITS.get("cpu_seconds", 30))
OUTPUT_BYTES = int(LIMITS.get("output_bytes", 65536))
MAX_IMAGES = int(LIMITS.get("max_images", 8))
IMAGE_BYTES = int(LIMITS.get("image_bytes", 8 * 1024 * 1024))


def _prelude() -> None:
    """Import the heavy libraries once, so a call that uses them is fast."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except Exception:
        pass


class Channel:
    def __init__(self) -> None:
        self.rfd = os.dup(0)
        self.wfd = os.dup(1)
        os.set_inheritable(self.rfd, False)
        os.set_inheritable(self.wfd, False)
        self.reader = os.fdopen(self.rfd, "rb", buffering=1 << 16)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.close(null)
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """A process the code forked is not the kernel: it may not speak for it."""
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def send(self, message: dict) -> None:
        data = json.dumps(message).encode() + b"\n"
        while data:
            data = data[os.write(self.wfd, data):]

    def receive(self) -> dict | None:
        line = self.reader.readline()
        if not line:
            return None
        return json.loads(line)


class Capture:
    """fds 1 and 2 go to files in /tmp during a call (so child processes' output is kept
    too); sys.stdout and sys.stderr write to those fds."""

    def __init__(self) -> None:
        self.paths = ("/tmp/.kernel-stdout", "/tmp/.kernel-stderr")
        for fd, path in zip((1, 2), self.paths, strict=True):
            f = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(f, fd)
            os.close(f)
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), line_buffering=True, errors="replace")
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), line_buffering=True, errors="replace")

    def reset(self) -> None:
        for fd in (1, 2):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)

    def read(self) -> tuple[str, str]:
        out = []
        for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
            with contextlib.suppress(Exception):
                stream.flush()
            data = os.pread(fd, OUTPUT_BYTES + 1, 0)
            text = data[:OUTPUT_BYTES].decode("utf-8", "replace")
            if len(data) > OUTPUT_BYTES:
                text += f"\n[output truncated at {OUTPUT_BYTES} bytes]"
            out.append(text)
        return out[0], out[1]


def _snapshot() -> dict[str, tuple[int, int]]:
    seen: dict[str, tuple[int, int]] = {}
    for root, dirs, files in os.walk(DATA):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            seen[os.path.relpath(path, DATA)] = (st.st_size, st.st_mtime_ns)
            if len(seen) >= MAX_LISTED:
                return seen
    return seen


def _info(snapshot: dict[str, tuple[int, int]], paths: list[str]) -> list[dict]:
    return [{"path": p, "size": snapshot[p][0], "modified": snapshot[p][1] / 1e9} for p in paths]


def _figures() -> list[str]:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    images: list[str] = []
    total = 0
    try:
        for num in pyplot.get_fignums()[:MAX_IMAGES]:
            buf = io.BytesIO()
            pyplot.figure(num).savefig(buf, format="png")
            data = buf.getvalue()
            total += len(data)
            if total > IMAGE_BYTES:
                break
            images.append(base64.b64encode(data).decode())
    except Exception:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            pyplot.close("all")
    return images


def _error(exc: BaseException) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    # drop the kernel's own frames: the traceback starts in the cell
    kept = [lines[0]] + [ln for ln in lines[1:] if "/opt/sandbox/" not in ln]
    return {"name": type(exc).__name__, "value": str(exc), "traceback": "".join(kept)}


KERNEL_PID = os.getpid()


def _run(code: str, namespace: dict) -> tuple[str | None, dict | None]:
    try:
        return _run_cell(code, namespace)
    finally:
        if os.getpid() != KERNEL_PID:  # a forked child that came back here ends
            os._exit(0)


def _run_cell(code: str, namespace: dict) -> tuple[str | None, dict | None]:
    try:
        tree = ast.parse(code, "<cell>", "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(last, "<cell>", "eval"), namespace)
            if value is not None:
                namespace["_"] = value
                text = repr(value)
                if len(text) > OUTPUT_BYTES:
                    text = text[:OUTPUT_BYTES] + f"\n[result truncated at {OUTPUT_BYTES} characters]"
                return text, None
        return None, None
    except SystemExit as exc:
        return None, {"name": "SystemExit", "value": str(exc.code), "traceback": f"SystemExit: {exc.code}\n"}
    except BaseException as exc:  # KeyboardInterrupt, MemoryError and the rest are the code's outcome
        return None, _error(exc)


def _cpu_budget() -> None:
    """The CPU limit counts from the start of this call: the soft limit moves on."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime) + 1 + CPU_SECONDS
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _end_strays() -> None:
    """Processes a call started end with it (all but this kernel and the supervisor)."""
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)
    while True:  # all were killed: wait for each (the supervisor reaps those that were orphaned)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def _safe_path(path: object) -> str:
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError("a file path is required")
    full = os.path.normpath(os.path.join(DATA, path))
    if not full.startswith(DATA + "/"):
        raise ValueError(f"path '{path}' is outside /mnt/data")
    return full


def _op_exec(msg: dict, namespace: dict, capture: Capture) -> dict:
    before = _snapshot()
    capture.reset()
    _cpu_budget()
    started = time.monotonic()
    result, error = _run(str(msg.get("code", "")), namespace)
    seconds = time.monotonic() - started
    _end_strays()
    images = _figures()
    stdout, stderr = capture.read()
    after = _snapshot()
    changed = [p for p, v in after.items() if before.get(p) != v]
    return {"ok": True, "stdout": stdout, "stderr": stderr, "result": result, "error": error,
            "images": images, "files": _info(after, changed), "seconds": seconds}


def _op_put(msg: dict) -> dict:
    path = _safe_path(msg.get("path"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = base64.b64decode(msg.get("data", ""), validate=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if msg.get("append") else os.O_TRUNC)
    fd = os.open(path, flags, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    st = os.stat(path)
    return {"ok": True, "file": {"path": os.path.relpath(path, DATA), "size": st.st_size, "modified": st.st_mtime}}


def _op_get(msg: dict) -> dict:
    path = _safe_path(msg.get("path"))
    offset = max(0, int(msg.get("offset", 0)))
    size = min(CHUNK, max(0, int(msg.get("size", CHUNK))))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        total = os.fstat(fd).st_size
        data = os.pread(fd, size, offset)
    finally:
        os.close(fd)
    return {"ok": True, "data": base64.b64encode(data).decode(), "total": total}


def _op_list() -> dict:
    snap = _snapshot()
    return {"ok": True, "files": _info(snap, list(snap))}


def main() -> None:
    channel = Channel()
    capture = Capture()
    _prelude()
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    os.chdir(DATA)
    channel.send({"type": "ready"})
    while True:
        msg = channel.receive()
        if msg is None:
            return
        reply: dict
        try:
            op = msg.get("op")
            if op == "exec":
                reply = _op_exec(msg, namespace, capture)
            elif op == "put":
                reply = _op_put(msg)
            elif op == "get":
                reply = _op_get(msg)
            elif op == "list":
                reply = _op_list()
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except FileNotFoundError:
            reply = {"ok": False, "error": "no such file", "code": "not_found"}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply.update(type="reply", id=msg.get("id"))
        with contextlib.suppress(OSError):
            os.chdir(DATA)
        channel.send(reply)


if __name__ == "__main__":
    main()
