"""A sandboxed, stateful Python interpreter (docs/sandbox.md): bubblewrap namespaces,
rlimits and a REPL kernel inside; ``SandboxPool`` keeps sessions by id over warm sandboxes."""

from switchyard.sandbox.pool import SandboxPool
from switchyard.sandbox.process import Sandbox
from switchyard.sandbox.types import ExecError, ExecResult, FileInfo, SandboxError, SandboxLimits, SandboxSettings

__all__ = ["ExecError", "ExecResult", "FileInfo", "Sandbox", "SandboxError", "SandboxLimits", "SandboxPool",
           "SandboxSettings"]
