"""Shared by the realtime tests: a session through the official SDK's realtime client,
every server event checked against the SDK's own event types (as JSON Schema), and
reading events up to one of a given type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
from openai.types.realtime.realtime_server_event import RealtimeServerEvent

from tests.sdk_schema import assert_valid, validator
from tests.server import MASTER_KEY, LiveServer

CHECK = validator(RealtimeServerEvent, {})


def sdk(server: LiveServer, key: str = MASTER_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


@contextmanager
def session(server: LiveServer, model: str, key: str = MASTER_KEY) -> Iterator[Any]:
    with sdk(server, key).realtime.connect(model=model) as connection:
        yield connection


def receive(connection: Any) -> dict[str, Any]:
    """The next event as sent, after checking it against the SDK's types and that the
    SDK's client parses it as that event."""
    raw = connection.recv_bytes()
    event = json.loads(raw)
    assert_valid(CHECK, event, event.get("type", "?"))
    assert connection.parse_event(raw).type == event["type"]
    assert event["event_id"].startswith("event_")
    return event


def until(connection: Any, kind: str, limit: int = 2000) -> list[dict[str, Any]]:
    """Events up to and with the first of type ``kind``."""
    events: list[dict[str, Any]] = []
    for _ in range(limit):
        events.append(receive(connection))
        if events[-1]["type"] == kind:
            return events
    raise AssertionError(f"no {kind} in {[e['type'] for e in events]}")


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]
