"""``ContainerService``: containers and their files over a ``SandboxPool``.

A container is a sandbox session keyed by its id. Its record and file list live in this
process, as the sandbox itself does (a container is this process's running sandbox; a
restart ends every container, as OpenAI's do after their idle time). Another owner's
container reads as missing; an expired one cannot run code."""

from __future__ import annotations

import asyncio
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.sandbox import ExecResult, SandboxError, SandboxPool
from switchyard.store.blobs import BlobNotFound, BlobStore
from switchyard.store.files import FileRepository
from switchyard.store.ids import new_id
from switchyard.tools.code_runner import CodeRun, ContainerFileRef

DATA = "/mnt/data"
DEFAULT_MINUTES = 20
FORGET_AFTER = 24 * 3600
Source = Literal["user", "assistant"]


@dataclass(slots=True)
class ContainerFile:
    id: str
    container_id: str
    path: str  # absolute, under /mnt/data
    bytes: int
    source: Source
    created_at: int
    file_id: str | None = None  # the Files API file it was copied from

    @property
    def relative(self) -> str:
        return self.path[len(DATA) + 1:]


@dataclass(slots=True)
class Container:
    id: str
    owner_id: str
    name: str
    created_at: int
    last_active_at: int
    minutes: int = DEFAULT_MINUTES
    memory_limit: str = "1g"
    files: dict[str, ContainerFile] = field(default_factory=dict)  # by path
    deleted: bool = False

    def status(self, now: float) -> str:
        return "expired" if now - self.last_active_at > self.minutes * 60 else "running"


def unavailable() -> SwitchyardError:
    return SwitchyardError(ErrorKind.INVALID_REQUEST, "No code sandbox runs on this server (install bubblewrap: "
                           "scripts/install-sandbox.sh, and enable sandbox in the config).",
                           code="sandbox_unavailable")


def _not_found(container_id: str, param: str = "container_id") -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"Container with id '{container_id}' not found.", param=param)


def _file_not_found(file_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"Container file with id '{file_id}' not found.", param="file_id")


def _sandbox_error(exc: SandboxError, param: str = "file") -> SwitchyardError:
    if exc.code == "busy":
        return SwitchyardError(ErrorKind.OVERLOADED, str(exc))
    if exc.code in ("invalid_path", "not_found", "too_large"):
        return invalid(str(exc), param)
    if exc.code == "unavailable":
        return unavailable()
    return SwitchyardError(ErrorKind.SERVER, f"The sandbox failed: {exc}")


class ContainerService:
    def __init__(self, pool: SandboxPool | None, files: FileRepository, blobs: BlobStore, *,
                 max_file_bytes: int = 64 * 1024**2, clock: Callable[[], float] = time.time) -> None:
        self.pool = pool
        self._clock = clock
        self._files = files
        self._blobs = blobs
        self._max_file_bytes = max_file_bytes
        self._containers: dict[str, Container] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _pool(self) -> SandboxPool:
        if self.pool is None:
            raise unavailable()
        return self.pool

    # -- containers ----------------------------------------------------------------------

    async def create(self, owner_id: str, name: str, *, file_ids: list[str] | None = None,
                     minutes: int = DEFAULT_MINUTES, memory_limit: str = "1g") -> Container:
        self._pool()
        files = [await self._read_file(fid, owner_id, f"file_ids[{i}]") for i, fid in enumerate(file_ids or [])]
        now = int(self._clock())
        # a session ends after the pool's idle time whatever the container says: it cannot outlive that
        minutes = max(1, min(minutes, int(self._pool().settings.idle_seconds // 60)))
        container = Container(new_id("cntr_"), owner_id, name, now, now, minutes, memory_limit)
        self._containers[container.id] = container
        for file_id, (filename, data) in zip(file_ids or [], files, strict=True):
            (await self._put(container, filename, data, "user")).file_id = file_id
        return container

    def get(self, owner_id: str, container_id: str, param: str = "container_id") -> Container:
        self._expire_sessions()
        container = self._containers.get(container_id)
        if container is None or container.owner_id != owner_id or container.deleted:
            raise _not_found(container_id, param)
        return container

    def list(self, owner_id: str) -> list[Container]:
        self._expire_sessions()
        return [c for c in self._containers.values() if c.owner_id == owner_id and not c.deleted]  # oldest first

    async def delete(self, owner_id: str, container_id: str) -> Container:
        container = self.get(owner_id, container_id)
        container.deleted = True
        self._containers.pop(container_id, None)
        if self.pool is not None:
            await self.pool.end_session(container_id)
        return container

    def _expire_sessions(self) -> None:
        now = self._clock()
        for container in list(self._containers.values()):
            if container.status(now) != "expired":
                continue
            if self.pool is not None and self.pool.has_session(container.id):
                asyncio.get_running_loop().create_task(self.pool.end_session(container.id))
            if now - container.last_active_at > container.minutes * 60 + FORGET_AFTER:
                del self._containers[container.id]  # an expired container is listed for a day, then forgotten

    def _live(self, owner_id: str, container_id: str, param: str) -> Container:
        container = self.get(owner_id, container_id, param)
        if container.status(self._clock()) == "expired":
            raise invalid(f"Container '{container_id}' has expired; create a new one.", param, "container_expired")
        return container

    async def _restore(self, container: Container) -> None:
        """A container whose sandbox ended (its idle time, a restart of the kernel's sandbox)
        gets a new one: files copied from the Files API are copied again, the others are gone."""
        pool = self._pool()
        if pool.has_session(container.id) or not container.files:
            return
        kept = [f for f in container.files.values() if f.file_id is not None]
        container.files.clear()
        for file in kept:
            assert file.file_id is not None
            try:
                _, data = await self._read_file(file.file_id, container.owner_id, "file_id")
            except SwitchyardError:
                continue  # deleted from the Files API since
            restored = await self._put(container, file.relative, data, file.source)
            restored.file_id = file.file_id

    # -- files ---------------------------------------------------------------------------

    async def _read_file(self, file_id: str, owner_id: str, param: str) -> tuple[str, bytes]:
        record = await self._files.get(file_id, owner_id)
        if record is None:
            raise SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {file_id}", param=param)
        if record.bytes > self._max_file_bytes:
            raise invalid(f"File {file_id} is larger than {self._max_file_bytes} bytes.", param)
        try:
            chunks = await self._blobs.open(record.blob_key)
            data = b"".join([c async for c in chunks])
        except BlobNotFound as exc:
            raise SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {file_id}", param=param) from exc
        return record.filename, data

    async def _put(self, container: Container, name: str, data: bytes, source: Source) -> ContainerFile:
        relative = name.removeprefix(DATA + "/").lstrip("/")
        try:
            info = await self._pool().put_file(container.id, relative, data)
        except SandboxError as exc:
            raise _sandbox_error(exc) from None
        path = f"{DATA}/{info.path}"
        old = container.files.get(path)
        file = ContainerFile(old.id if old else new_id("cfile_"), container.id, path, info.size, source,
                             int(self._clock()))
        container.files[path] = file
        container.last_active_at = int(self._clock())
        return file

    async def add_file(self, owner_id: str, container_id: str, *, filename: str | None = None,
                       data: bytes | None = None, file_id: str | None = None) -> ContainerFile:
        container = self._live(owner_id, container_id, "container_id")
        if file_id is not None:
            filename, data = await self._read_file(file_id, owner_id, "file_id")
        if data is None or not filename:
            raise invalid("Send a 'file' or a 'file_id'.", "file")
        if len(data) > self._max_file_bytes:
            raise invalid(f"The file is larger than {self._max_file_bytes} bytes.", "file")
        await self._restore(container)
        file = await self._put(container, filename, data, "user")
        file.file_id = file_id
        return file

    async def files(self, owner_id: str, container_id: str) -> list[ContainerFile]:
        container = self.get(owner_id, container_id)
        if container.status(self._clock()) == "running":
            await self._restore(container)
        return list(container.files.values())  # in the order they first appeared

    def file(self, owner_id: str, container_id: str, file_id: str) -> ContainerFile:
        container = self.get(owner_id, container_id)
        for file in container.files.values():
            if file.id == file_id:
                return file
        raise _file_not_found(file_id)

    async def content(self, owner_id: str, container_id: str, file_id: str) -> tuple[ContainerFile, bytes, str]:
        container = self.get(owner_id, container_id)
        if container.status(self._clock()) == "running":
            await self._restore(container)
        file = self.file(owner_id, container_id, file_id)
        pool = self._pool()
        if not pool.has_session(container_id):
            raise SwitchyardError(ErrorKind.NOT_FOUND, f"The content of '{file_id}' is gone: its container's "
                                  "sandbox has ended.", param="file_id")
        try:
            data = await pool.get_file(container_id, file.relative)
        except SandboxError as exc:
            if exc.code == "not_found":
                raise _file_not_found(file_id) from None
            raise _sandbox_error(exc) from None
        mime = mimetypes.guess_type(file.path)[0] or "application/octet-stream"
        return file, data, mime

    async def delete_file(self, owner_id: str, container_id: str, file_id: str) -> ContainerFile:
        file = self.file(owner_id, container_id, file_id)
        self._containers[container_id].files.pop(file.path, None)
        if self.pool is not None and self.pool.has_session(container_id):
            code = f"import os\ntry:\n    os.remove({file.path!r})\nexcept FileNotFoundError:\n    pass"
            await self.pool.execute(container_id, code)
        return file

    # -- the code_interpreter tool (tools.code_runner.CodeRunner) -------------------------

    async def container_for(self, owner_id: str, container: str | None, file_ids: list[str],
                            reuse: list[str], param: str) -> str:
        if container is not None:
            return self._live(owner_id, container, param).id
        for candidate in reuse:
            found = self._containers.get(candidate)
            if (found is not None and found.owner_id == owner_id and not found.deleted
                    and found.status(self._clock()) == "running"):
                return found.id
        return (await self.create(owner_id, "Container for code_interpreter", file_ids=file_ids)).id

    async def run_code(self, owner_id: str, container_id: str, code: str) -> CodeRun:
        container = self._live(owner_id, container_id, "container_id")
        container.last_active_at = int(self._clock())
        await self._restore(container)
        try:
            result: ExecResult = await self._pool().execute(container_id, code)
        except SandboxError as exc:
            raise _sandbox_error(exc, "container") from None
        container.last_active_at = int(self._clock())
        refs: list[ContainerFileRef] = []
        for info in result.files:
            path = f"{DATA}/{info.path}"
            old = container.files.get(path)
            file = ContainerFile(old.id if old else new_id("cfile_"), container_id, path, info.size,
                                 old.source if old else "assistant", int(self._clock()))
            container.files[path] = file
            refs.append(ContainerFileRef(file.id, container_id, path))
        return CodeRun(result, refs)
