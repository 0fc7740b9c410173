"""``POST /v1/audio/speech``: the JSON body into a ``SpeechRequest``, and the
``speech.audio.*`` events of ``stream_format: "sse"``."""

from __future__ import annotations

import base64
import math
from typing import Any

from switchyard.core.audio import SPEECH_FORMATS, SpeechFormat, SpeechRequest
from switchyard.core.errors import invalid

MAX_INPUT_CHARS = 4096
MIN_SPEED, MAX_SPEED = 0.25, 4.0
MEDIA_TYPES: dict[SpeechFormat, str] = {
    "mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav",
    "pcm": "audio/pcm",
}
FIELDS = frozenset({"model", "input", "voice", "response_format", "speed", "instructions", "stream_format"})


def _text(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"'{name}' is required.", name, "missing_required_parameter")
        return None
    if not isinstance(value, str):
        raise invalid(f"'{name}' must be a string.", name, "invalid_type")
    if len(value) > MAX_INPUT_CHARS:
        raise invalid(f"'{name}' is longer than {MAX_INPUT_CHARS} characters.", name, "string_above_max_length")
    return value


def _voice(body: dict[str, Any]) -> str:
    value = body.get("voice")
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        raise invalid("'voice' is required.", "voice", "missing_required_parameter")
    if not isinstance(value, str) or not value.strip():
        raise invalid("'voice' must be a voice name or an object with a voice 'id'.", "voice", "invalid_type")
    return value.strip()


def _format(body: dict[str, Any]) -> SpeechFormat:
    value = body.get("response_format", "mp3")
    for known in SPEECH_FORMATS:
        if value == known:
            return known
    raise invalid(f"'response_format' must be one of {', '.join(SPEECH_FORMATS)}; got {value!r}.",
                  "response_format", "invalid_value")


def _speed(body: dict[str, Any]) -> float:
    value = body.get("speed", 1.0)
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise invalid("'speed' must be a number.", "speed", "invalid_type")
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise invalid(f"'speed' must be between {MIN_SPEED} and {MAX_SPEED}; got {value}.", "speed",
                      "invalid_value")
    return float(value)


def _sse(body: dict[str, Any]) -> bool:
    value = body.get("stream_format", "audio")
    if value not in ("audio", "sse", None):
        raise invalid(f"'stream_format' must be 'audio' or 'sse'; got {value!r}.", "stream_format", "invalid_value")
    return bool(value == "sse")


def decode_speech(body: dict[str, Any]) -> SpeechRequest:
    for name in body:
        if name not in FIELDS:
            raise invalid(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
    model = _text(body, "model", required=True)
    text = _text(body, "input", required=True)
    assert model is not None and text is not None
    if not model:
        raise invalid("'model' must not be empty.", "model", "invalid_value")
    if not text.strip():
        raise invalid("'input' must not be empty.", "input", "invalid_value")
    return SpeechRequest(model=model, input=text, voice=_voice(body), response_format=_format(body),
                         speed=_speed(body), instructions=_text(body, "instructions", required=False),
                         sse=_sse(body), custom_voice=isinstance(body.get("voice"), dict))


def audio_delta(chunk: bytes) -> dict[str, Any]:
    return {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode("ascii")}


def audio_done(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"type": "speech.audio.done", "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                                                   "total_tokens": input_tokens + output_tokens}}


def speech_body(request: SpeechRequest, upstream_model: str) -> dict[str, Any]:
    """The request as an OpenAI-compatible upstream takes it (always raw audio bytes back)."""
    voice: str | dict[str, str] = {"id": request.voice} if request.custom_voice else request.voice
    body: dict[str, Any] = {"model": upstream_model, "input": request.input, "voice": voice,
                            "response_format": request.response_format, "speed": request.speed}
    if request.instructions is not None:
        body["instructions"] = request.instructions
    return body
