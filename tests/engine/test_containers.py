"""ContainerService over a real sandbox pool and an in-memory store, on an injected clock:
expiry after the container's idle minutes, and files copied from the Files API coming back
when the container's sandbox ended."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.engine.containers.service import ContainerService
from switchyard.sandbox import SandboxPool, SandboxSettings
from switchyard.store.blobs import BlobStore
from switchyard.store.database import Database
from switchyard.store.files import FileRepository

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="scripts/install-sandbox.sh not run")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[ContainerService, Clock, str]]:
    db = Database("sqlite+aiosqlite:///:memory:")
    await db.start()
    blobs = BlobStore(tmp_path / "blobs")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a,b\n1,2\n"

    blob = await blobs.write_stream(chunks(), 1024)
    record = await FileRepository(db).create("alice", filename="data.csv", purpose="user_data", blob=blob,
                                             mime_type="text/csv")
    pool = SandboxPool(SandboxSettings(warm=0, idle_seconds=3600))
    await pool.start()
    clock = Clock()
    try:
        yield ContainerService(pool, FileRepository(db), blobs, clock=clock), clock, record.id
    finally:
        await pool.aclose()
        await db.aclose()


async def test_a_container_expires_after_its_idle_minutes(setup: tuple[ContainerService, Clock, str]) -> None:
    service, clock, _ = setup
    container = await service.create("alice", "c", minutes=5)
    await service.run_code("alice", container.id, "x = 1")
    clock.now += 4 * 60
    assert (await service.run_code("alice", container.id, "x")).result.result == "1"  # activity moves the anchor
    clock.now += 4 * 60
    assert container.status(clock()) == "running"
    clock.now += 2 * 60
    assert container.status(clock()) == "expired"
    with pytest.raises(SwitchyardError) as caught:
        await service.run_code("alice", container.id, "x")
    assert caught.value.code == "container_expired"
    assert service.get("alice", container.id).id == container.id  # still listed...
    clock.now += 2 * 24 * 3600
    with pytest.raises(SwitchyardError):  # ...until forgotten
        service.get("alice", container.id)


async def test_files_from_the_files_api_come_back_when_the_sandbox_ended(
        setup: tuple[ContainerService, Clock, str]) -> None:
    service, _, file_id = setup
    container = await service.create("alice", "c", file_ids=[file_id])
    await service.add_file("alice", container.id, filename="upload.txt", data=b"only in the sandbox")
    assert [f.path for f in await service.files("alice", container.id)] == ["/mnt/data/data.csv",
                                                                          "/mnt/data/upload.txt"]
    assert service.pool is not None
    await service.pool.end_session(container.id)  # as its idle time would
    assert [f.path for f in await service.files("alice", container.id)] == ["/mnt/data/data.csv"]
    run = await service.run_code("alice", container.id, "open('/mnt/data/data.csv').read()")
    assert run.result.result == "'a,b\\n1,2\\n'"


async def test_another_owner_sees_nothing(setup: tuple[ContainerService, Clock, str]) -> None:
    service, _, file_id = setup
    container = await service.create("alice", "c")
    with pytest.raises(SwitchyardError) as caught:
        service.get("bob", container.id)
    assert caught.value.kind.value == "not_found"
    assert service.list("bob") == []
    with pytest.raises(SwitchyardError):  # alice's file is not bob's to copy
        await service.create("bob", "theirs", file_ids=[file_id])
