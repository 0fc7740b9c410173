"""A transcription as an OpenAI-compatible upstream takes it (form fields) and its answer
back into a transcript. The upstream is asked for ``verbose_json`` whenever the client needs
segments (verbose_json, srt, vtt) and for ``json`` otherwise, since not every upstream model
offers verbose_json; the client's own format is made here.

A streamed transcription (``stream: true``) is asked of the upstream as a stream when its
model can stream (OpenAI's gpt-4o-transcribe family can; whisper-1 ignores ``stream``, and
translations have no stream): its ``transcript.text.delta`` and ``transcript.text.done``
events are decoded here."""

from __future__ import annotations

import fnmatch
from typing import Any

from switchyard.core.audio import (
    Segment,
    Transcript,
    TranscriptFormat,
    TranscriptionRequest,
    TranscriptText,
    TranscriptUsage,
    Word,
)
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.usage import Usage

_NEEDS_SEGMENTS: frozenset[TranscriptFormat] = frozenset({"verbose_json", "srt", "vtt"})
LANGUAGE_CODES = {"english": "en", "german": "de", "spanish": "es", "french": "fr", "italian": "it",
                  "japanese": "ja", "chinese": "zh", "portuguese": "pt", "russian": "ru", "dutch": "nl"}


# upstream models that answer a whole transcript even when asked to stream (OpenAI: whisper-1)
NON_STREAMING_MODELS = ("whisper*", "*/whisper*", "*-whisper*")


def streams_upstream(request: TranscriptionRequest, upstream_model: str) -> bool:
    """Whether the upstream is asked to stream this transcription."""
    return (request.stream and request.task == "transcribe"
            and not any(fnmatch.fnmatchcase(upstream_model.lower(), p) for p in NON_STREAMING_MODELS))


def stream_fields(request: TranscriptionRequest, upstream_model: str) -> list[tuple[str, str]]:
    """The form of a streamed transcription: ``json`` (the only format the streaming models
    take) and ``stream=true``."""
    fields = [("model", upstream_model), ("response_format", "json"), ("stream", "true"),
              ("temperature", repr(request.temperature))]
    if request.language:
        fields.append(("language", request.language))
    if request.prompt:
        fields.append(("prompt", request.prompt))
    return fields


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def usage_from_upstream(raw: object) -> TranscriptUsage | None:
    """A ``{"type": "tokens", ...}`` usage object (a duration usage carries no tokens)."""
    if not isinstance(raw, dict) or raw.get("type") != "tokens":
        return None
    details = raw.get("input_token_details")
    details = details if isinstance(details, dict) else {}
    audio, text = details.get("audio_tokens"), details.get("text_tokens")
    return TranscriptUsage(Usage(input_tokens=_count(raw.get("input_tokens")),
                                 output_tokens=_count(raw.get("output_tokens"))),
                           audio_tokens=_count(audio) if audio is not None else None,
                           text_tokens=_count(text) if text is not None else None)


def stream_event(event: object) -> TranscriptText | TranscriptUsage | None:
    """One upstream stream event: a delta's text, or the done event's usage (None when it
    reports none). An ``error`` event raises it; an unknown type is malformed."""
    if not isinstance(event, dict):
        raise _bad("a stream event is not an object")
    kind = event.get("type")
    if kind == "transcript.text.delta":
        delta = event.get("delta")
        if not isinstance(delta, str):
            raise _bad("a transcript.text.delta without 'delta'")
        return TranscriptText(delta)
    if kind == "transcript.text.done":
        if not isinstance(event.get("text"), str):
            raise _bad("a transcript.text.done without 'text'")
        return usage_from_upstream(event.get("usage"))
    error = event.get("error")
    if kind == "error" or isinstance(error, dict):
        detail = error if isinstance(error, dict) else event
        message = detail.get("message") if isinstance(detail.get("message"), str) else "the stream failed"
        raise SwitchyardError(ErrorKind.UPSTREAM, f"The upstream's transcription stream failed: {message}",
                              code=str(detail.get("code") or "upstream_error"))
    raise _bad(f"unexpected stream event type {kind!r}")


def upstream_format(request: TranscriptionRequest) -> TranscriptFormat:
    return "verbose_json" if request.response_format in _NEEDS_SEGMENTS else "json"


def transcription_fields(request: TranscriptionRequest, upstream_model: str) -> list[tuple[str, str]]:
    fields = [("model", upstream_model), ("response_format", upstream_format(request)),
              ("temperature", repr(request.temperature))]
    if request.language:
        fields.append(("language", request.language))
    if request.prompt:
        fields.append(("prompt", request.prompt))
    if upstream_format(request) == "verbose_json":
        fields.append(("timestamp_granularities[]", "segment"))
        if request.words:
            fields.append(("timestamp_granularities[]", "word"))
    return fields


def _bad(what: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"The upstream's transcription answer is malformed: {what}.")


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(what)
    return float(value)


def _words(raw: object) -> list[Word]:
    if not isinstance(raw, list):
        return []
    words: list[Word] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("word"), str):
            raise _bad("a word without text")
        words.append(Word(" " + str(item["word"]), _number(item.get("start"), "word start"),
                          _number(item.get("end"), "word end")))
    return words


def _segment(item: Any, words: tuple[Word, ...]) -> Segment:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise _bad("a segment without text")
    start, end = _number(item.get("start"), "segment start"), _number(item.get("end"), "segment end")
    tokens = item.get("tokens")
    return Segment(
        id=int(_number(item.get("id", 0), "segment id")), seek=int(_number(item.get("seek", 0), "seek")),
        start=start, end=end, text=str(item["text"]),
        tokens=tuple(t for t in tokens if isinstance(t, int)) if isinstance(tokens, list) else (),
        temperature=_number(item.get("temperature", 0.0), "temperature"),
        avg_logprob=_number(item.get("avg_logprob", 0.0), "avg_logprob"),
        compression_ratio=_number(item.get("compression_ratio", 0.0), "compression_ratio"),
        no_speech_prob=_number(item.get("no_speech_prob", 0.0), "no_speech_prob"),
        words=words,
    )


def _owners(starts: list[float], words: list[Word]) -> list[tuple[Word, ...]]:
    """Each segment's words: a word belongs to the last segment starting at or before it."""
    owned: list[list[Word]] = [[] for _ in starts]
    for word in words:
        index = max((i for i, start in enumerate(starts) if start <= word.start), default=0)
        owned[index].append(word)
    return [tuple(group) for group in owned]


def transcript_from_upstream(body: object, language: str | None) -> Transcript:
    """A ``json`` or ``verbose_json`` answer. A json answer becomes one segment spanning the
    audio (its duration from ``usage.seconds`` when the upstream reports it)."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise _bad("no 'text'")
    raw_language = body.get("language")
    code = LANGUAGE_CODES.get(raw_language, raw_language) if isinstance(raw_language, str) else language or ""
    usage = body.get("usage")
    seconds = usage.get("seconds") if isinstance(usage, dict) else None
    duration = body.get("duration", seconds if isinstance(seconds, int | float) else 0.0)
    transcript = Transcript(language=code, duration=_number(duration, "duration"))
    segments = body.get("segments")
    if isinstance(segments, list):
        starts = [_number(item.get("start"), "segment start") if isinstance(item, dict) else 0.0
                  for item in segments]
        owners = _owners(starts, _words(body.get("words"))) if starts else []
        transcript.segments = [_segment(item, words) for item, words in zip(segments, owners, strict=True)]
    elif body["text"]:
        transcript.segments = [Segment(id=0, seek=0, start=0.0, end=transcript.duration, text=str(body["text"]))]
    return transcript
