"""Which upstream failures go to another deployment, and which count against it."""

from __future__ import annotations

import aiohttp
import pytest

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.capabilities import intersect
from switchyard.providers import anthropic, openai
from switchyard.providers.base import Capabilities, Support
from switchyard.providers.upstream_errors import (
    from_exception,
    from_status,
    retry_after_seconds,
    retryable,
    unhealthy,
)

BODY = b'{"error": {"message": "nope"}}'


@pytest.mark.parametrize(("status", "retry", "counts"), [
    (429, True, True), (500, True, True), (502, True, True), (503, True, True), (504, True, True),
    (529, True, True), (408, True, True),
    (400, False, False), (404, False, False), (413, False, False), (422, False, False),
    (401, False, True), (403, False, True),
])
def test_status_rules(status: int, retry: bool, counts: bool) -> None:
    error = from_status(status, BODY, {})
    assert (retryable(error), unhealthy(error)) == (retry, counts)


@pytest.mark.parametrize("exc", [TimeoutError(), aiohttp.ClientConnectionError("refused"),
                                 ConnectionResetError("reset"), ValueError("bad json")])
def test_no_answer_is_retryable(exc: Exception) -> None:
    assert retryable(from_exception(exc)) and unhealthy(from_exception(exc))


@pytest.mark.parametrize(("kind", "retry"), [
    (ErrorKind.OVERLOADED, True), (ErrorKind.RATE_LIMIT, True), (ErrorKind.UPSTREAM, True),
    (ErrorKind.INVALID_REQUEST, False), (ErrorKind.AUTHENTICATION, False),
])
def test_errors_inside_streams_by_kind(kind: ErrorKind, retry: bool) -> None:
    assert retryable(SwitchyardError(kind, "in-stream")) is retry


def test_retry_after_seconds() -> None:
    assert retry_after_seconds(from_status(429, BODY, {"retry-after": "7"})) == 7.0
    assert retry_after_seconds(from_status(429, BODY, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) is None
    assert retry_after_seconds(from_status(500, BODY, {})) is None


def test_capabilities_of_mixed_deployments_are_what_all_can_do() -> None:
    both = intersect([Capabilities(json_schema=True, vision=True, parameters=openai.PARAMETERS),
                      Capabilities(json_schema=False, vision=True, parameters=anthropic.PARAMETERS)])
    assert not both.json_schema and both.vision
    assert both.support("seed").support is Support.UNSUPPORTED  # Anthropic has none
    assert both.support("top_k").support is Support.UNSUPPORTED  # OpenAI has none
    assert both.support("temperature").support is Support.NATIVE  # the primary's word
    assert both.support("service_tier").values == frozenset({"default"})


def test_one_deployment_keeps_its_capabilities() -> None:
    caps = Capabilities(json_schema=True, parameters=openai.PARAMETERS)
    assert intersect([caps]) is caps
