"""The bubblewrap command line of one sandbox (docs/sandbox.md has the why of each part)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from switchyard.sandbox.types import SandboxLimits

INSIDE = "/opt/sandbox"  # where the kernel scripts are seen, read-only
UID = 1000  # the sandbox's user, mapped to an unprivileged host uid

# Read-only, from the host: the system's programs and libraries (nothing secret lives in
# /usr), the library links Debian keeps in /etc/alternatives, the loader cache and
# matplotlib's default settings. Nothing else of /etc (no passwd, no shadow), no /home,
# /root, /var, /srv, /work or data directory.
_READ_ONLY = ("/usr", "/etc/alternatives", "/etc/ld.so.cache", "/etc/matplotlibrc", "/etc/fonts")
_LINKS = (("usr/bin", "/bin"), ("usr/sbin", "/sbin"), ("usr/lib", "/lib"), ("usr/lib64", "/lib64"))

ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "USER": "sandbox",
    "LOGNAME": "sandbox",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/.matplotlib",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


def bwrap_argv(bwrap: str, python: str, scripts: Path, limits: SandboxLimits, control_fd: int,
               seccomp_fd: int | None = None) -> list[str]:
    """``bwrap`` running the supervisor, which runs the kernel; ``control_fd`` is the read
    end of the pipe the host stops a call through."""
    argv = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--as-pid-1",
            "--die-with-parent", "--new-session", "--uid", str(UID), "--gid", str(UID),
            "--hostname", "sandbox", "--cap-drop", "ALL", "--clearenv"]
    for path in _READ_ONLY:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for target, link in _LINKS:
        argv += ["--symlink", target, link]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(min(limits.tmp_bytes, 16 * 1024**2)), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev",  # bwrap's /dev is a tmpfs without a size: nothing may be written to it
             "--size", str(limits.tmp_bytes), "--perms", "1777", "--tmpfs", "/tmp",
             "--size", str(limits.disk_bytes), "--perms", "0755", "--tmpfs", "/mnt/data",
             "--ro-bind", str(scripts), INSIDE,
             "--remount-ro", "/",
             "--chdir", "/mnt/data"]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    for key, value in ENV.items():
        argv += ["--setenv", key, value]
    argv += [python, "-I", "-B", f"{INSIDE}/supervisor.py", python, f"{INSIDE}/kernel.py",
             json.dumps(asdict(limits)), str(control_fd)]
    return argv
