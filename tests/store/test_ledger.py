from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from switchyard.store import Database, RequestLog
from switchyard.store.ledger import LedgerEntry, LedgerFilter

ZERO = {"requests": 0, "errors": 0, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


def _entry(owner: str = "proj_a", **fields: object) -> LedgerEntry:
    values: dict[str, object] = {"request_id": "req_1", "owner_id": owner, "surface": "openai.chat", "model": "m",
                                 "outcome": "completed", "status": 200}
    values.update(fields)
    return LedgerEntry(**values)  # type: ignore[arg-type]


async def test_totals(database: Database) -> None:
    log = RequestLog(database)
    assert await log.totals("proj_a") == ZERO
    await log.record_many([
        _entry(key_id="key_deleted_later", input_tokens=10, output_tokens=5, latency_ms=120),
        _entry(surface="anthropic.messages", status=429, outcome="insufficient_quota"),
        _entry("proj_b", input_tokens=1000, output_tokens=1000),
    ])
    assert await log.totals("proj_a") == {"requests": 2, "errors": 1, "input_tokens": 10, "output_tokens": 5,
                                          "total_tokens": 15}
    assert (await log.totals("proj_b"))["total_tokens"] == 2000
    assert await log.totals("proj_c") == ZERO


async def test_totals_time_window(database: Database) -> None:
    log = RequestLog(database)
    now = datetime.now(UTC)
    for days, tokens in [(3, 1), (2, 10), (1, 100)]:
        await log.record(_entry("o", input_tokens=tokens, created_at=now - timedelta(days=days)))
    assert (await log.totals("o"))["input_tokens"] == 111
    assert (await log.totals("o", since=now - timedelta(days=2)))["input_tokens"] == 110
    window = await log.totals("o", since=now - timedelta(days=3), until=now - timedelta(days=2))
    assert window["input_tokens"] == 1
    other_tz = (now - timedelta(days=2)).astimezone(timezone(timedelta(hours=-7)))
    assert (await log.totals("o", since=other_tz))["input_tokens"] == 110


async def test_entries_round_trip_and_page_newest_first(database: Database) -> None:
    log = RequestLog(database)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    written = [_entry(request_id=f"req_{n}", created_at=base + timedelta(seconds=n), cost_nanousd=n * 10**9,
                      ttft_ms=n, deployment="dep", usage_counted=n % 2 == 0) for n in range(5)]
    await log.record_many(written)
    first, more = await log.entries(LedgerFilter(), limit=3)
    assert [e.request_id for e in first] == ["req_4", "req_3", "req_2"] and more
    rest, more = await log.entries(LedgerFilter(), limit=3, after=first[-1].id)
    assert [e.request_id for e in rest] == ["req_1", "req_0"] and not more
    assert rest[-1] == written[0]  # every field survives the round trip
    only, _ = await log.entries(LedgerFilter(request_id="req_3"), limit=10)
    assert [e.cost_nanousd for e in only] == [3 * 10**9]


async def test_buckets_sum_per_bucket_and_group(database: Database) -> None:
    log = RequestLog(database)
    start = 1_700_000_000
    at = lambda s: datetime.fromtimestamp(start + s, UTC)  # noqa: E731
    await log.record_many([
        _entry(model="a", input_tokens=1, output_tokens=2, created_at=at(0)),
        _entry(model="a", input_tokens=10, output_tokens=20, created_at=at(59), model_requests=3),
        _entry(model="b", input_tokens=100, created_at=at(61), cost_nanousd=7),
        _entry(model="a", input_tokens=1000, created_at=at(3600)),
        _entry(model="a", input_tokens=5, created_at=at(-1)),  # before the start
        _entry(model="e", kind="embeddings", input_tokens=9, created_at=at(1)),
    ])
    rows = await log.buckets(LedgerFilter(kind="completions"), start=start, width=60, group_by=["model"])
    found = {(r.bucket, r.group["model"]): (r.model_requests, r.input_tokens, r.output_tokens, r.cost_nanousd)
             for r in rows}
    assert found == {(0, "a"): (4, 11, 22, 0), (1, "b"): (1, 100, 0, 7), (60, "a"): (1, 1000, 0, 0)}
    plain = await log.buckets(LedgerFilter(until=start + 60), start=start, width=60, group_by=[])
    assert [(r.bucket, r.input_tokens) for r in plain] == [(0, 20)]


async def test_outcome_buckets_count_every_request_and_error_in_the_window(database: Database) -> None:
    log = RequestLog(database)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await log.record_many([
        *[_entry(created_at=start + timedelta(seconds=n)) for n in range(1500)],  # more than any page
        _entry(created_at=start + timedelta(seconds=5), status=500),
        _entry(created_at=start + timedelta(hours=1, seconds=1), status=429),
        _entry(created_at=start + timedelta(hours=1, seconds=2), status=None),
        _entry(created_at=start + timedelta(hours=2), status=400),  # past the end
        _entry(created_at=start - timedelta(seconds=1), status=400),  # before the start
    ])
    unix = int(start.timestamp())
    assert await log.outcome_buckets(start=unix, end=unix + 7200, width=3600) == [(0, 1501, 1), (1, 2, 1)]
