"""Rate-limit decisions as each vendor's headers, request ids, and the admission estimate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchyard.core.items import Message, TextPart
from switchyard.core.request import Request
from switchyard.gateway.limits.estimate import DEFAULT_MAX_OUTPUT, reserved_tokens
from switchyard.gateway.limits.headers import anthropic_headers, duration, openai_headers
from switchyard.gateway.limits.model import Decision, Window
from switchyard.gateway.telemetry.request_trace import request_id_from


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.02, "20ms"), (0.0, "0ms"), (1.0, "1s"), (1.5, "1.5s"), (59.977, "59.977s"), (60.0, "1m0s"),
    (360.0, "6m0s"), (61.25, "1m1.25s"),
])
def test_openai_reset_durations(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


ANSWERED = Decision(True, requests=Window(50, 12, 3.5), tokens=Window(10_000, 9_000, 60.0))
REFUSED = Decision(False, requests=Window(50, 0, 7.2), tokens=None, reason="requests", bucket="key:k",
                   retry_after=7.2)


def test_openai_headers() -> None:
    assert openai_headers(ANSWERED) == {
        "x-ratelimit-limit-requests": "50", "x-ratelimit-remaining-requests": "12",
        "x-ratelimit-reset-requests": "3.5s", "x-ratelimit-limit-tokens": "10000",
        "x-ratelimit-remaining-tokens": "9000", "x-ratelimit-reset-tokens": "1m0s"}
    assert openai_headers(REFUSED) == {
        "x-ratelimit-limit-requests": "50", "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "7.2s"}


def test_anthropic_headers() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    assert anthropic_headers(ANSWERED, now) == {
        "anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "12",
        "anthropic-ratelimit-requests-reset": "2026-11-30T12:00:04Z",
        "anthropic-ratelimit-tokens-limit": "10000", "anthropic-ratelimit-tokens-remaining": "9000",
        "anthropic-ratelimit-tokens-reset": "2026-11-30T12:01:00Z",
        "anthropic-ratelimit-input-tokens-limit": "10000", "anthropic-ratelimit-input-tokens-remaining": "9000",
        "anthropic-ratelimit-input-tokens-reset": "2026-11-30T12:01:00Z",
        "anthropic-ratelimit-output-tokens-limit": "10000", "anthropic-ratelimit-output-tokens-remaining": "9000",
        "anthropic-ratelimit-output-tokens-reset": "2026-11-30T12:01:00Z"}
    refused = anthropic_headers(REFUSED, now)
    assert refused["retry-after"] == "8" and refused["anthropic-ratelimit-requests-remaining"] == "0"
    assert not any(name.startswith(("anthropic-ratelimit-tokens", "anthropic-ratelimit-input",
                                    "anthropic-ratelimit-output")) for name in refused)


@pytest.mark.parametrize(("incoming", "kept"), [
    ("trace-4f2a-0001", True), ("0123456789abcdef0123", True), ("a:b.c_d-e", True),
    (None, False), ("short", False), ("has space inside", False), ('quote"injected"', False),
    ("x" * 129, False), ("line\nbreak-0001", False),
])
def test_client_request_ids_are_kept_only_when_sane(incoming: str | None, kept: bool) -> None:
    chosen = request_id_from(incoming)
    assert (chosen == incoming) is kept
    if not kept:
        assert chosen.startswith("req_") and len(chosen) == 28


def _request(text: str, max_output: int | None, n: int = 1) -> Request:
    return Request(model="m", items=[Message(role="user", content=[TextPart(text)])], max_output_tokens=max_output,
                   n=n)


@pytest.mark.parametrize(("text", "max_output", "n", "expected"), [
    ("", 100, 1, 3 + 100),
    ("x" * 400, 100, 1, 100 + 3 + 100),
    ("x" * 400, None, 1, 100 + 3 + DEFAULT_MAX_OUTPUT),
    ("x" * 40, 50, 3, 10 + 3 + 150),
])
def test_the_reserved_estimate(text: str, max_output: int | None, n: int, expected: int) -> None:
    assert reserved_tokens(_request(text, max_output, n)) == expected
