from __future__ import annotations

from typing import Any

import pytest

from switchyard.store import Database
from switchyard.store.response_events import ResponseEventLog


def events(numbers: range) -> list[dict[str, Any]]:
    return [{"type": "response.output_text.delta", "sequence_number": n, "delta": f"d{n}"} for n in numbers]


def numbers(stored: list[dict[str, Any]]) -> list[int]:
    return [event["sequence_number"] for event in stored]


async def test_append_and_read_after(database: Database) -> None:
    log = ResponseEventLog(database)
    assert await log.after("resp_1") == ([], None)
    assert await log.last_sequence("resp_1") is None

    await log.append("resp_1", events(range(0, 3)))
    await log.append("resp_1", events(range(3, 6)))
    await log.append("resp_1", [])
    await log.append("resp_other", events(range(0, 2)))

    stored, lowest = await log.after("resp_1")
    assert stored == events(range(0, 6))  # verbatim, in order
    assert lowest == 0
    assert await log.after("resp_1", -1) == (events(range(0, 6)), 0)
    assert await log.after("resp_1", 3) == (events(range(4, 6)), 0)
    assert await log.after("resp_1", 5) == ([], 0)
    assert await log.last_sequence("resp_1") == 5
    assert numbers((await log.after("resp_other"))[0]) == [0, 1]


async def test_oldest_events_are_dropped_beyond_the_bound(database: Database) -> None:
    log = ResponseEventLog(database, max_events_per_response=5)
    await log.append("resp_1", events(range(0, 4)))
    assert numbers((await log.after("resp_1"))[0]) == [0, 1, 2, 3]
    await log.append("resp_1", events(range(4, 12)))
    await log.append("resp_other", events(range(0, 3)))

    stored, lowest = await log.after("resp_1")
    assert (numbers(stored), lowest) == ([7, 8, 9, 10, 11], 7)
    stored, lowest = await log.after("resp_1", 2)  # 3..6 were dropped: the caller sees lowest > 3
    assert (numbers(stored), lowest) == ([7, 8, 9, 10, 11], 7)
    stored, lowest = await log.after("resp_1", 9)
    assert (numbers(stored), lowest) == ([10, 11], 7)
    assert numbers((await log.after("resp_other"))[0]) == [0, 1, 2]  # other responses untouched


async def test_delete(database: Database) -> None:
    log = ResponseEventLog(database)
    await log.append("resp_1", events(range(0, 3)))
    await log.append("resp_2", events(range(0, 3)))
    await log.delete("resp_1")
    assert await log.after("resp_1") == ([], None)
    assert numbers((await log.after("resp_2"))[0]) == [0, 1, 2]


@pytest.mark.parametrize("bad", [{"type": "x"}, {"type": "x", "sequence_number": "1"}, {"sequence_number": True}])
async def test_events_need_a_sequence_number(database: Database, bad: dict[str, Any]) -> None:
    log = ResponseEventLog(database)
    with pytest.raises(ValueError):
        await log.append("resp_1", [*events(range(0, 1)), bad])
    assert await log.after("resp_1") == ([], None)


def test_bound_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ResponseEventLog(Database("sqlite+aiosqlite://"), max_events_per_response=0)
