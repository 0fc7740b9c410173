from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from switchyard.store import ApiKeyRepository, Database, RequestLog

ZERO = {"requests": 0, "errors": 0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


async def test_totals(database: Database) -> None:
    log = RequestLog(database)
    key, _ = await ApiKeyRepository(database).create("owner-a", "ci")
    assert await log.totals("owner-a") == ZERO

    entry_id = await log.record(
        owner_id="owner-a",
        key_id=key.id,
        surface="openai.chat",
        model="m",
        status=200,
        input_tokens=10,
        output_tokens=5,
        latency_ms=120,
    )
    assert entry_id.startswith("req_")
    await log.record(
        owner_id="owner-a", surface="anthropic.messages", model="m", status=429, latency_ms=3
    )
    await log.record(
        owner_id="owner-b",
        surface="openai.chat",
        model="m",
        status=200,
        input_tokens=1000,
        output_tokens=1000,
    )
    assert await log.totals("owner-a") == {
        "requests": 2,
        "errors": 1,
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
    }
    assert (await log.totals("owner-b"))["total_tokens"] == 2000
    assert await log.totals("owner-c") == ZERO


async def test_totals_time_window(database: Database) -> None:
    log = RequestLog(database)
    now = datetime.now(UTC)
    for days, tokens in [(3, 1), (2, 10), (1, 100)]:
        await log.record(
            owner_id="o",
            surface="s",
            model="m",
            status=200,
            input_tokens=tokens,
            created_at=now - timedelta(days=days),
        )
    assert (await log.totals("o"))["input_tokens"] == 111
    assert (await log.totals("o", since=now - timedelta(days=2)))["input_tokens"] == 110
    window = await log.totals("o", since=now - timedelta(days=3), until=now - timedelta(days=2))
    assert window["input_tokens"] == 1
    # an offset other than UTC means the same instant
    other_tz = (now - timedelta(days=2)).astimezone(timezone(timedelta(hours=-7)))
    assert (await log.totals("o", since=other_tz))["input_tokens"] == 110


async def test_key_id_must_exist(database: Database) -> None:
    with pytest.raises(IntegrityError):
        await RequestLog(database).record(
            owner_id="o", key_id="key_missing", surface="s", model="m", status=200
        )
