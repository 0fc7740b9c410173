"""The batched ledger writer against a real SQLite database: rows wait in memory, leave in
batches, and closing writes every one still waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event

from switchyard.gateway.ledger_writer import LedgerWriter
from switchyard.store import Database, RequestLog
from switchyard.store.ledger import LedgerEntry, LedgerFilter


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[RequestLog]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}")
    await db.start()
    yield RequestLog(db)
    await db.aclose()


def _entry(n: int) -> LedgerEntry:
    return LedgerEntry(request_id=f"req_{n}", owner_id="p", surface="s", model="m", outcome="completed",
                       input_tokens=n)


async def _count(log: RequestLog) -> int:
    return len((await log.entries(LedgerFilter(), limit=1000))[0])


async def test_a_full_batch_is_written_without_waiting_for_the_timer(log: RequestLog) -> None:
    writer = LedgerWriter(log, flush_seconds=3600, batch_size=3)
    writer.start()
    for n in range(2):
        writer.put(_entry(n))
    await asyncio.sleep(0.05)
    assert await _count(log) == 0 and writer.waiting == 2
    writer.put(_entry(2))
    for _ in range(200):
        if await _count(log) == 3:
            break
        await asyncio.sleep(0.01)
    assert await _count(log) == 3 and writer.waiting == 0
    await writer.close()


async def test_close_writes_everything_waiting(log: RequestLog) -> None:
    writer = LedgerWriter(log, flush_seconds=3600, batch_size=1000)
    writer.start()
    for n in range(2500):
        writer.put(_entry(n))
    await writer.close()
    assert writer.waiting == 0
    assert (await log.totals("p"))["requests"] == 2500
    assert (await log.totals("p"))["input_tokens"] == sum(range(2500))


async def test_rows_arriving_during_a_write_wait_for_the_next_round(tmp_path: Path) -> None:
    """Under steady traffic each round is one transaction of what waited when it began: a
    round that chased the rows arriving while it wrote made a transaction of a few rows,
    back to back, for as long as traffic lasted."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}")
    await db.start()
    inserts: list[int] = []

    def counted(_conn: object, _cursor: object, statement: str, parameters: object, _context: object,
                _many: bool) -> None:
        if statement.startswith("INSERT INTO request_log"):
            inserts.append(len(parameters) if isinstance(parameters, list) else 1)

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    log = RequestLog(db)
    writer = LedgerWriter(log, flush_seconds=0.2, batch_size=100_000)
    writer.start()
    loop = asyncio.get_running_loop()
    began, n = loop.time(), 0
    while loop.time() - began < 1.0:  # ~1,000 rows a second for a second
        writer.put(_entry(n))
        n += 1
        await asyncio.sleep(0.001)
    await writer.close()
    await db.aclose()
    assert sum(inserts) == n
    assert len(inserts) <= 8, f"{len(inserts)} transactions for {n} rows: {inserts[:20]}"
