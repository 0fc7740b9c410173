"""Client events in: one JSON text frame to one typed event, or ``SwitchyardError``
naming the field. ``event_id_of`` reads the client's ``event_id`` first, so that an error
about any other field can still name the event that caused it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from switchyard.codecs.openai_chat.fields import obj, opt_int, opt_str, req_str
from switchyard.core.errors import invalid

MAX_EVENT_ID = 512


@dataclass(frozen=True, slots=True)
class SessionUpdate:
    session: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ItemCreate:
    item: dict[str, Any]
    previous_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRetrieve:
    item_id: str


@dataclass(frozen=True, slots=True)
class ItemDelete:
    item_id: str


@dataclass(frozen=True, slots=True)
class ItemTruncate:
    item_id: str
    content_index: int
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class AudioAppend:
    audio: bytes


@dataclass(frozen=True, slots=True)
class AudioCommit:
    pass


@dataclass(frozen=True, slots=True)
class AudioClear:
    pass


@dataclass(frozen=True, slots=True)
class OutputAudioClear:
    pass


@dataclass(frozen=True, slots=True)
class ResponseCreate:
    response: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResponseCancel:
    response_id: str | None = None


ClientEvent = (SessionUpdate | ItemCreate | ItemRetrieve | ItemDelete | ItemTruncate | AudioAppend | AudioCommit
               | AudioClear | OutputAudioClear | ResponseCreate | ResponseCancel)


def load_frame(raw: str | bytes) -> dict[str, Any]:
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"The event is not valid JSON: {exc}", None, "invalid_json") from exc
    if not isinstance(frame, dict):
        raise invalid("The event must be a JSON object.", None, "invalid_json")
    return frame


def event_id_of(frame: dict[str, Any]) -> str | None:
    """The client's ``event_id`` when it is a usable one, else None."""
    value = frame.get("event_id")
    return value if isinstance(value, str) and len(value) <= MAX_EVENT_ID else None


def _audio(frame: dict[str, Any]) -> bytes:
    text = req_str(frame, "audio")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid("Invalid 'audio': expected base64-encoded audio in the session's input format.", "audio",
                      "invalid_value") from exc
    return data


def _truncate(frame: dict[str, Any]) -> ItemTruncate:
    index = opt_int(frame, "content_index", lo=0)
    end = opt_int(frame, "audio_end_ms", lo=0)
    if index is None:
        raise invalid("Missing required parameter: 'content_index'.", "content_index", "missing_required_parameter")
    if end is None:
        raise invalid("Missing required parameter: 'audio_end_ms'.", "audio_end_ms", "missing_required_parameter")
    return ItemTruncate(req_str(frame, "item_id"), index, end)


def _response_create(frame: dict[str, Any]) -> ResponseCreate:
    response = frame.get("response")
    return ResponseCreate(obj(response, "response") if response is not None else {})


_DECODERS: dict[str, Callable[[dict[str, Any]], ClientEvent]] = {
    "session.update": lambda f: SessionUpdate(obj(f.get("session"), "session")),
    "conversation.item.create": lambda f: ItemCreate(obj(f.get("item"), "item"), opt_str(f, "previous_item_id")),
    "conversation.item.retrieve": lambda f: ItemRetrieve(req_str(f, "item_id")),
    "conversation.item.delete": lambda f: ItemDelete(req_str(f, "item_id")),
    "conversation.item.truncate": _truncate,
    "input_audio_buffer.append": lambda f: AudioAppend(_audio(f)),
    "input_audio_buffer.commit": lambda f: AudioCommit(),
    "input_audio_buffer.clear": lambda f: AudioClear(),
    "output_audio_buffer.clear": lambda f: OutputAudioClear(),
    "response.create": _response_create,
    "response.cancel": lambda f: ResponseCancel(opt_str(f, "response_id")),
}
CLIENT_EVENTS = tuple(_DECODERS)


def decode_event(frame: dict[str, Any]) -> ClientEvent:
    event_id = frame.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or len(event_id) > MAX_EVENT_ID):
        raise invalid(f"Invalid 'event_id': expected a string of at most {MAX_EVENT_ID} characters.", "event_id",
                      "invalid_value")
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise invalid("Missing required parameter: 'type'." if kind is None else
                      "Invalid type for 'type': expected a string.", "type",
                      "missing_required_parameter" if kind is None else "invalid_type")
    decoder = _DECODERS.get(kind)
    if decoder is None:
        choices = ", ".join(f"'{name}'" for name in CLIENT_EVENTS)
        raise invalid(f"Invalid value: '{kind}'. Supported values are: {choices}.", "type", "invalid_value")
    return decoder(frame)
