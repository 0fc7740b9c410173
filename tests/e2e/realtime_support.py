"""Shared by the realtime tests: a session through the official SDK's realtime client,
every server event checked against the SDK's own event types (as JSON Schema), and
reading events up to one of a given type."""

from __future__ import annotations

import io
import json
import os
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openai.types.realtime.realtime_server_event import RealtimeServerEvent

from tests.sdk_schema import assert_valid, validator
from tests.server import MASTER_KEY, LiveServer, sdk

CHECK = validator(RealtimeServerEvent, {})


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


def speech_server(workdir: Path, chat_url: str) -> LiveServer:
    """A live server with a chat model on a scripted upstream (``gpt-fake``) and the
    embedded speech models (Whisper base as ``whisper-1``, the voice as ``tts-1``), started."""
    from switchyard.providers.audio.whisper_files import ensure_whisper_base

    cache = Path(os.environ.get("SWITCHYARD_TEST_CACHE", Path(__file__).parents[2] / ".cache"))
    models = [
        {"name": "gpt-fake", "provider": "openai", "base_url": chat_url + "/v1", "api_key": "upstream-key",
         "model": "gpt-upstream", "timeout": 10},
        {"name": "whisper-base", "provider": "local", "task": "transcription", "path": str(ensure_whisper_base(cache)),
         "threads": 2, "aliases": ["whisper-1"]},
        {"name": "hibari-tts", "provider": "local", "task": "speech", "aliases": ["tts-1"]},
    ]
    server = LiveServer(workdir, models)
    server.start(wait_ready=True)
    return server


def pcm_wav(pcm: bytes, rate: int = 24000) -> bytes:
    """16-bit mono PCM as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()
