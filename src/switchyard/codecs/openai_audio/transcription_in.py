"""A transcription or translation form (its fields, already read) into a
``TranscriptionRequest``. Form values are text: numbers and booleans are parsed here, and
each refusal names its field."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from switchyard.core.audio import TRANSCRIPT_FORMATS, AudioFile, Task, TranscriptFormat, TranscriptionRequest
from switchyard.core.errors import invalid

MAX_PROMPT_CHARS = 4096
GRANULARITIES = ("word", "segment")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
TRANSCRIPTION_FIELDS = frozenset({
    "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities[]",
    "timestamp_granularities", "stream", "include[]", "include", "chunking_strategy",
})
TRANSLATION_FIELDS = frozenset({"model", "prompt", "response_format", "temperature"})

Fields = Mapping[str, Sequence[str]]


def allowed_fields(task: Task) -> frozenset[str]:
    return TRANSCRIPTION_FIELDS if task == "transcribe" else TRANSLATION_FIELDS


def _one(fields: Fields, name: str) -> str | None:
    values = fields.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(f"'{name}' was sent {len(values)} times; send it once.", name)
    return values[0]


def _format(fields: Fields) -> TranscriptFormat:
    value = _one(fields, "response_format")
    if value is None:
        return "json"
    for known in TRANSCRIPT_FORMATS:
        if value == known:
            return known
    raise invalid(f"'response_format' must be one of {', '.join(TRANSCRIPT_FORMATS)}; got {value!r}.",
                  "response_format", "invalid_value")


def _temperature(fields: Fields) -> float:
    value = _one(fields, "temperature")
    if value is None or value == "":
        return 0.0
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0.0 <= number <= 1.0:
        raise invalid(f"'temperature' must be a number between 0 and 1; got {value!r}.", "temperature",
                      "invalid_value")
    return number


def _stream(fields: Fields) -> bool:
    value = _one(fields, "stream")
    if value is None:
        return False
    if value.lower() not in _BOOLEANS:
        raise invalid(f"'stream' must be true or false; got {value!r}.", "stream", "invalid_type")
    return _BOOLEANS[value.lower()]


def _granularities(fields: Fields, response_format: TranscriptFormat) -> tuple[str, ...]:
    values = [*fields.get("timestamp_granularities[]", ()), *fields.get("timestamp_granularities", ())]
    for value in values:
        if value not in GRANULARITIES:
            raise invalid(f"'timestamp_granularities[]' items must be 'word' or 'segment'; got {value!r}.",
                          "timestamp_granularities[]", "invalid_value")
    if values and response_format != "verbose_json":
        raise invalid("'timestamp_granularities[]' needs 'response_format' set to 'verbose_json'.",
                      "timestamp_granularities[]", "invalid_value")
    return tuple(values)


def _language(fields: Fields) -> str | None:
    value = _one(fields, "language")
    if value is None or value == "":
        return None
    code = value.strip().lower()
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        raise invalid(f"'language' must be an ISO-639-1 code such as 'en'; got {value!r}.", "language",
                      "invalid_value")
    return code


def _prompt(fields: Fields) -> str | None:
    value = _one(fields, "prompt")
    if value is not None and len(value) > MAX_PROMPT_CHARS:
        raise invalid(f"'prompt' is longer than {MAX_PROMPT_CHARS} characters.", "prompt", "invalid_value")
    return value or None


def _include(fields: Fields) -> None:
    for value in (*fields.get("include[]", ()), *fields.get("include", ())):
        if value != "logprobs":
            raise invalid(f"'include[]' items must be 'logprobs'; got {value!r}.", "include[]", "invalid_value")
        raise invalid("'include[]' logprobs are not available from this server's transcription models.",
                      "include[]", "unsupported_value")


def _chunking(fields: Fields) -> None:
    value = _one(fields, "chunking_strategy")
    if value not in (None, "", "auto"):
        raise invalid("'chunking_strategy' may only be 'auto' here: long audio is always cut at pauses.",
                      "chunking_strategy", "unsupported_value")


def decode_transcription(fields: Fields, file: AudioFile | None, task: Task) -> TranscriptionRequest:
    """Checks a form whose unknown fields were already refused; ``file`` is the stored upload."""
    model = _one(fields, "model")
    if not model:
        raise invalid("'model' is required.", "model", "missing_required_parameter")
    if file is None:
        raise invalid("'file' is required: send the audio as a multipart file part named 'file'.", "file",
                      "missing_required_parameter")
    if file.size == 0:
        raise invalid("'file' is empty.", "file", "invalid_value")
    response_format = _format(fields)
    granularities = _granularities(fields, response_format)
    stream = _stream(fields) if task == "transcribe" else False
    if stream and response_format not in ("json", "text"):
        raise invalid("'stream' needs 'response_format' json or text.", "stream", "invalid_value")
    _include(fields)
    _chunking(fields)
    return TranscriptionRequest(
        model=model, file=file, task=task, response_format=response_format,
        language=_language(fields) if task == "transcribe" else None, prompt=_prompt(fields),
        temperature=_temperature(fields), words="word" in granularities, stream=stream,
    )
