"""Which failures of a batch line are tried again, how often, and how long the runner waits
between tries (a real database under the metering; the line call stands in for a surface)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from switchyard.config import MeteringConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.batches.lines import LineResult, LineRunner
from switchyard.gateway.auth import Principal
from switchyard.gateway.metering import Metering
from switchyard.providers.upstream_errors import UpstreamError, from_exception, from_status
from switchyard.store.database import Database


@pytest.fixture
async def metering(tmp_path: Path) -> AsyncIterator[Metering]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'lines.db'}")
    await db.start()
    meter = Metering(db, MeteringConfig())
    yield meter
    await meter.close()
    await db.aclose()


def _principal() -> Principal:
    return Principal(owner_id="proj_test", is_master=True)


async def _tries(metering: Metering, errors: list[SwitchyardError | None], retries: int = 2) -> tuple[int, int]:
    """(calls made, final status) for a line whose tries fail with ``errors`` in turn (None: a 200)."""
    calls = 0

    async def call(principal: Principal, body: dict[str, Any]) -> LineResult:
        nonlocal calls
        error = errors[min(calls, len(errors) - 1)]
        calls += 1
        if error is None:
            return LineResult(200, {"ok": True})
        return LineResult(error.status, {"error": {"message": error.message}}, error)

    runner = LineRunner(metering, None, retries=retries, backoff_seconds=0.001)
    answer = await runner.run(call, _principal(), "openai.batch", {"model": "m"}, "batch_x line 0")
    return calls, answer.status


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 529])
async def test_an_upstream_status_that_may_pass_is_tried_again_until_it_answers(metering: Metering,
                                                                                 status: int) -> None:
    error = from_status(status, b'{"error": {"message": "busy"}}', {})
    assert await _tries(metering, [error, error, None]) == (3, 200)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
async def test_an_upstream_refusal_is_an_answer_at_once(metering: Metering, status: int) -> None:
    error = from_status(status, b'{"error": {"message": "no"}}', {})
    assert await _tries(metering, [error, None]) == (1, error.status)


async def test_no_answer_at_all_is_tried_again(metering: Metering) -> None:
    for exc in (TimeoutError(), ConnectionResetError("reset")):
        error = from_exception(exc)
        assert await _tries(metering, [error, None]) == (2, 200)


async def test_tries_are_bounded_and_the_last_failure_is_the_answer(metering: Metering) -> None:
    error = from_status(500, b'{"error": {"message": "down"}}', {})
    assert await _tries(metering, [error], retries=2) == (3, 502)
    assert await _tries(metering, [error], retries=0) == (1, 502)


async def test_our_own_failures_are_not_tried_again_but_our_rate_limit_is(metering: Metering) -> None:
    assert await _tries(metering, [SwitchyardError(ErrorKind.SERVER, "bug"), None]) == (1, 500)
    assert await _tries(metering, [SwitchyardError(ErrorKind.QUOTA, "budget spent"), None]) == (1, 429)
    assert await _tries(metering, [SwitchyardError(ErrorKind.RATE_LIMIT, "slow down"), None]) == (2, 200)


async def test_the_wait_doubles_with_jitter_honours_retry_after_and_is_capped(metering: Metering) -> None:
    runner = LineRunner(metering, None, retries=5, backoff_seconds=1.0, wait_max=30.0, rng=random.Random(7))
    failed = from_status(500, b"{}", {})
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)):
        waits = {runner.wait(attempt, failed) for _ in range(50)}
        assert min(waits) >= base / 2 and max(waits) <= base and len(waits) > 1  # jittered
    assert runner.wait(9, failed) <= 30.0
    assert runner.wait(1, from_status(429, b"{}", {"retry-after": "7"})) == 7.0
    assert runner.wait(1, from_status(503, b"{}", {"retry-after": "600"})) == 30.0  # capped
    assert runner.wait(1, UpstreamError(ErrorKind.RATE_LIMIT, "x", upstream_status=429, retry_after="0")) == 0.0
