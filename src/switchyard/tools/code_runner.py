"""What the ``code_interpreter`` tool runs code on: containers (sandbox sessions) of an
owner, seen through this protocol so the tool does not depend on how they are kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from switchyard.sandbox.types import ExecResult


@dataclass(frozen=True, slots=True)
class ContainerFileRef:
    """A file the code wrote, now a container file: ``path`` is absolute (``/mnt/data/…``)."""

    id: str
    container_id: str
    path: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class CodeRun:
    result: ExecResult
    files: list[ContainerFileRef] = field(default_factory=list)


class CodeRunner(Protocol):
    async def container_for(self, owner_id: str, container: str | None, file_ids: list[str],
                            reuse: list[str], param: str) -> str:
        """The container a call runs in: ``container`` by id (another owner's or an expired
        one is not found, naming ``param``), or, when None, the first live one of ``reuse``
        (those the context already used), else a new one holding ``file_ids``."""
        ...

    async def run_code(self, owner_id: str, container_id: str, code: str) -> CodeRun: ...
