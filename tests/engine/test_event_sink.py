"""A background response's event sink (``engine/responses/sink.py``) over the real event
log: events are written in batches, never one write per event, and none waits longer
than ``FLUSH_SECONDS`` (or past the run's final ``flush``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from switchyard.engine.responses.live import EventSignals
from switchyard.engine.responses.sink import FLUSH_EVERY, FLUSH_SECONDS, StoredEventSink
from switchyard.store import Database
from switchyard.store.response_events import ResponseEventLog


class CountingLog(ResponseEventLog):
    """The real log, counting its writes."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.writes: list[int] = []

    async def append(self, response_id: str, events: list[dict[str, Any]]) -> None:
        self.writes.append(len(events))
        await super().append(response_id, events)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[CountingLog]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'sink.db'}")
    await db.start()
    try:
        yield CountingLog(db)
    finally:
        await db.aclose()


def _event(n: int, kind: str = "response.output_text.delta") -> dict[str, Any]:
    return {"type": kind, "sequence_number": n}


async def _stored(log: ResponseEventLog) -> list[int]:
    events, _ = await log.after("resp_1")
    return [event["sequence_number"] for event in events]


async def test_events_are_written_together_within_the_flush_delay(log: CountingLog) -> None:
    sink = StoredEventSink("resp_1", log, EventSignals())
    await sink(_event(0, "response.created"))
    await sink(_event(1, "response.in_progress"))
    await sink(_event(2))
    assert log.writes == []  # no write per event, nor for the lifecycle events
    for _ in range(100):  # out without a further event or a flush
        if log.writes:
            break
        await asyncio.sleep(FLUSH_SECONDS / 2)
    assert await _stored(log) == [0, 1, 2]
    assert log.writes == [3]


async def test_a_full_batch_is_written_at_once_and_the_rest_by_the_final_flush(log: CountingLog) -> None:
    sink = StoredEventSink("resp_1", log, EventSignals())
    for n in range(FLUSH_EVERY + 2):
        await sink(_event(n))
    assert await _stored(log) == list(range(FLUSH_EVERY))
    await sink.flush()
    assert await _stored(log) == list(range(FLUSH_EVERY + 2))
    assert log.writes == [FLUSH_EVERY, 2]
    await asyncio.sleep(FLUSH_SECONDS * 2)  # the timer the flush replaced writes nothing more
    assert log.writes == [FLUSH_EVERY, 2]


async def test_readers_are_woken_after_each_batch(log: CountingLog) -> None:
    signals = EventSignals(poll_seconds=60)
    sink = StoredEventSink("resp_1", log, signals)
    waiting = asyncio.create_task(signals.wait("resp_1"))
    await asyncio.sleep(0)
    await sink(_event(0))
    await asyncio.wait_for(waiting, FLUSH_SECONDS * 20)  # woken by the batch, not the 60 s poll
    assert await _stored(log) == [0]
