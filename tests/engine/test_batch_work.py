"""The batch state machine on a real database, with its clock injected: a batch whose
completion window ends mid-run expires (what finished is kept, the rest is ``expired``
in the error file), and a batch taken over at ``finalizing`` is finished without running
anything again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from switchyard.config import MeteringConfig
from switchyard.engine.batches.lines import LineResult, LineRunner
from switchyard.engine.batches.work import BatchWork, Limits
from switchyard.gateway.auth import Principal
from switchyard.gateway.metering import Metering
from switchyard.store.batches import BatchRepository
from switchyard.store.blobs import BlobStore
from switchyard.store.database import Database
from switchyard.store.files import FileRepository
from switchyard.store.models import utcnow

OWNER = "proj_test"
WORKER = "worker_test"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'batches.db'}")
    await db.start()
    yield db
    await db.aclose()


async def _input_file(db: Database, blobs: BlobStore, lines: list[dict[str, Any]]) -> str:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"".join(orjson.dumps(line) + b"\n" for line in lines)

    blob = await blobs.write_stream(chunks(), 1 << 20)
    record = await FileRepository(db).create(OWNER, filename="in.jsonl", purpose="batch", blob=blob,
                                             mime_type="application/jsonl")
    return record.id


def _work(db: Database, tmp_path: Path, clock: Clock, answer: Any) -> tuple[BatchWork, Metering]:
    metering = Metering(db, MeteringConfig())
    calls = {"openai": {"/v1/chat/completions": answer}, "anthropic": {"/v1/messages": answer}}
    work = BatchWork(BatchRepository(db), FileRepository(db), BlobStore(tmp_path), calls,
                     LineRunner(metering, None, retries=0), Limits(per_batch=1, per_model=1, max_lines=100,
                                                                   log_every=10), clock=clock)
    return work, metering


def _line(n: int) -> dict[str, Any]:
    return {"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": [{"role": "user", "content": f"q{n}"}]}}


async def test_a_batch_expires_when_its_window_ends_mid_run(database: Database, tmp_path: Path) -> None:
    clock = Clock()
    repo = BatchRepository(database)
    blobs = BlobStore(tmp_path)
    done: list[str] = []

    async def answer(principal: Principal, body: dict[str, Any]) -> LineResult:
        await asyncio.sleep(0.05)
        done.append(body["messages"][0]["content"])
        if len(done) == 2:
            clock.now += 25 * 3600  # past the 24h window
        return LineResult(200, {"echo": body["messages"][0]["content"]})

    work, metering = _work(database, tmp_path, clock, answer)
    file_id = await _input_file(database, blobs, [_line(n) for n in range(20)])
    batch = await repo.create(OWNER, "openai", prefix="batch_", endpoint="/v1/chat/completions",
                              request={"input_file_id": file_id, "completion_window": "24h"}, caller={},
                              window_seconds=24 * 3600, now=clock.now)
    claimed = await repo.claim_next(WORKER, 30)
    assert claimed is not None and claimed.id == batch.id
    await work.run(claimed, WORKER)
    ended = await repo.current(batch.id)
    assert ended is not None and ended.status == "expired" and ended.expired_at is not None
    # a line answered as the window closed may be stopped before its answer is stored
    assert len(done) >= 2 and len(done) - 1 <= ended.succeeded <= len(done) and ended.expired > 0
    assert ended.succeeded + ended.expired == ended.total == 20
    errors = await _file_lines(database, blobs, ended.error_file_id)
    assert {line["error"]["code"] for line in errors} == {"batch_expired"} and len(errors) == ended.expired
    output = await _file_lines(database, blobs, ended.output_file_id)
    echoed = [line["response"]["body"]["echo"] for line in output]
    assert len(echoed) == ended.succeeded and set(echoed) <= set(done)
    await metering.close()


async def test_a_batch_taken_over_at_finalizing_runs_nothing_again(database: Database, tmp_path: Path) -> None:
    clock = Clock()
    repo = BatchRepository(database)
    calls = 0

    async def answer(principal: Principal, body: dict[str, Any]) -> LineResult:
        nonlocal calls
        calls += 1
        return LineResult(200, {"ok": True})

    work, metering = _work(database, tmp_path, clock, answer)
    lines = [(f"r{n}", {"model": "m", "max_tokens": 5, "messages": []}) for n in range(3)]
    batch = await repo.create(OWNER, "anthropic", prefix="msgbatch_", endpoint="/v1/messages", request={},
                              caller={}, window_seconds=24 * 3600, lines=lines, now=clock.now)
    first = await repo.claim_next("worker_dead", 30)
    assert first is not None
    for n in (1, 2, 3):
        assert await repo.finish_line(batch.id, n, "succeeded", {"status_code": 200, "body": {"n": n}})
    assert not await repo.finish_line(batch.id, 1, "errored", {})  # a line's outcome is written once
    assert await repo.finalizing(batch.id, "worker_dead")
    assert await repo.claim_next(WORKER, 30) is None  # the lease still holds
    second = await repo.claim_next(WORKER, 30, now=utcnow() + timedelta(seconds=31))  # the dead worker's ran out
    assert second is not None and second.status == "finalizing" and second.attempts == 2
    await work.run(second, WORKER)
    ended = await repo.current(batch.id)
    assert ended is not None and ended.status == "completed" and (ended.succeeded, ended.total) == (3, 3)
    assert calls == 0
    await metering.close()


async def _file_lines(db: Database, blobs: BlobStore, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    record = await FileRepository(db).get(file_id, OWNER)
    assert record is not None and record.purpose == "batch_output"
    data = b"".join([chunk async for chunk in await blobs.open(record.blob_key)])
    return [orjson.loads(line) for line in data.splitlines()]


async def test_a_line_that_raises_ends_as_a_server_error_and_the_batch_goes_on(database: Database,
                                                                             tmp_path: Path) -> None:
    clock = Clock()
    repo = BatchRepository(database)
    blobs = BlobStore(tmp_path)

    async def answer(principal: Principal, body: dict[str, Any]) -> LineResult:
        if body["messages"][0]["content"] == "q1":
            raise RuntimeError("a bug in a line call")
        return LineResult(200, {"echo": body["messages"][0]["content"]})

    work, metering = _work(database, tmp_path, clock, answer)
    file_id = await _input_file(database, blobs, [_line(n) for n in range(3)])
    batch = await repo.create(OWNER, "openai", prefix="batch_", endpoint="/v1/chat/completions",
                              request={"input_file_id": file_id, "completion_window": "24h"}, caller={},
                              window_seconds=24 * 3600, now=clock.now)
    claimed = await repo.claim_next(WORKER, 30)
    assert claimed is not None
    await work.run(claimed, WORKER)
    ended = await repo.current(batch.id)
    assert ended is not None and ended.status == "completed" and (ended.succeeded, ended.errored) == (2, 1)
    [error] = await _file_lines(database, blobs, ended.error_file_id)
    assert error["custom_id"] == "r1" and error["response"]["status_code"] == 500
    assert error["response"]["body"]["error"]["type"] == "server_error"
    await metering.close()


async def test_a_batch_stopped_too_many_times_is_given_up_keeping_what_finished(database: Database,
                                                                               tmp_path: Path) -> None:
    clock = Clock()
    repo = BatchRepository(database)

    async def answer(principal: Principal, body: dict[str, Any]) -> LineResult:
        raise AssertionError("a given-up batch runs nothing")

    work, metering = _work(database, tmp_path, clock, answer)
    lines = [(f"r{n}", {"model": "m", "max_tokens": 5, "messages": []}) for n in range(3)]
    batch = await repo.create(OWNER, "anthropic", prefix="msgbatch_", endpoint="/v1/messages", request={},
                              caller={}, window_seconds=24 * 3600, lines=lines, now=clock.now)
    later = utcnow()
    for crash in range(work.limits.max_attempts):  # each worker dies holding the batch
        later += timedelta(seconds=31)
        held = await repo.claim_next(f"worker_{crash}", 30, now=later)
        assert held is not None and held.attempts == crash + 1
        if crash == 0:
            assert await repo.finish_line(batch.id, 1, "succeeded", {"status_code": 200, "body": {"n": 1}})
    await repo.release(batch.id, f"worker_{work.limits.max_attempts - 1}")  # a clean handover is no attempt
    handed = await repo.claim_next("worker_next", 30)
    assert handed is not None and handed.attempts == work.limits.max_attempts
    await repo.release(batch.id, "worker_next")
    last = await repo.claim_next(WORKER, 30, now=later + timedelta(seconds=1))
    assert last is not None
    last = await repo.claim_next(WORKER, 30, now=later + timedelta(seconds=60))  # ours ran out too: a crash
    assert last is not None and last.attempts == work.limits.max_attempts + 1
    await work.run(last, WORKER)
    ended = await repo.current(batch.id)
    assert ended is not None and ended.status == "completed" and (ended.succeeded, ended.errored) == (1, 2)
    results = {line.custom_id: (line.state, line.result) for line in [x async for x in repo.lines(batch.id)]}
    assert results["r0"][0] == "succeeded"
    assert results["r1"][0] == "errored" and "given up" in results["r1"][1]["body"]["error"]["message"]
    await metering.close()
