"""What every sandbox of a pool shares on the host: the kernel scripts, copied into a
directory the sandbox's unprivileged host user can read, and how processes are started."""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from switchyard.sandbox.seccomp import deny_filter
from switchyard.sandbox.types import SandboxError, SandboxSettings

NOBODY = 65534
_SCRIPTS = ("supervisor.py", "kernel.py")


class Runtime:
    """The scripts directory (removed by ``close``) and the host user sandboxes run as."""

    def __init__(self, settings: SandboxSettings) -> None:
        bwrap = shutil.which(settings.bwrap)
        if bwrap is None:
            raise SandboxError("the sandbox needs bubblewrap (scripts/install-sandbox.sh)", code="unavailable")
        if not os.access(settings.python, os.X_OK):
            raise SandboxError(f"the sandbox's Python {settings.python} is missing (scripts/install-sandbox.sh)",
                               code="unavailable")
        self.bwrap = bwrap
        self.python = settings.python
        # root drops to an unprivileged uid before bwrap makes its namespaces; anyone else
        # is unprivileged already
        self.user: int | None = (settings.user if settings.user is not None else NOBODY) if os.geteuid() == 0 else None
        self.setpriv = shutil.which("setpriv")
        if self.user is not None and self.setpriv is None:
            raise SandboxError("the sandbox needs setpriv (util-linux) to drop root", code="unavailable")
        self.scripts = Path(tempfile.mkdtemp(prefix="switchyard-sandbox-"))
        os.chmod(self.scripts, 0o755)
        package = resources.files("switchyard.sandbox.inside")
        for name in _SCRIPTS:
            target = self.scripts / name
            target.write_bytes(package.joinpath(name).read_bytes())
            os.chmod(target, 0o644)
        program = deny_filter()
        self.seccomp: Path | None = None
        if program is not None:
            self.seccomp = self.scripts / "seccomp.bpf"
            self.seccomp.write_bytes(program)

    def open_seccomp(self) -> int | None:
        """A fresh read fd on the seccomp program for one bwrap (which reads it to its end)."""
        return os.open(self.seccomp, os.O_RDONLY) if self.seccomp is not None else None

    def drop_privileges(self) -> list[str]:
        """The command prefix that runs bwrap as ``user`` (setpriv works on every event loop,
        where ``subprocess``'s ``user=`` does not)."""
        if self.user is None:
            return []
        assert self.setpriv is not None
        return [self.setpriv, f"--reuid={self.user}", f"--regid={self.user}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--"]

    def close(self) -> None:
        shutil.rmtree(self.scripts, ignore_errors=True)
