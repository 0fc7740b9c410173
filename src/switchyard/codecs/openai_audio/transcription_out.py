"""A transcript in the format the client asked for, and the ``transcript.text.*`` stream
events. Times in SubRip and WebVTT are cue timestamps (``00:00:01,240`` / ``00:00:01.240``)."""

from __future__ import annotations

import math
from typing import Any

from switchyard.core.audio import Segment, Task, Transcript, TranscriptFormat, TranscriptUsage, Word

# Whisper names languages in English words in verbose_json ("english"); the codes it detects
# are mapped here, the others are given as their code.
LANGUAGE_NAMES = {
    "en": "english", "de": "german", "es": "spanish", "fr": "french", "it": "italian", "ja": "japanese",
    "zh": "chinese", "pt": "portuguese", "ru": "russian", "nl": "dutch", "ko": "korean", "pl": "polish",
    "tr": "turkish", "sv": "swedish", "ar": "arabic", "hi": "hindi", "uk": "ukrainian", "cs": "czech",
}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def _usage(transcript: Transcript) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(transcript.duration)}


def _segment(segment: Segment) -> dict[str, Any]:
    return {
        "id": segment.id, "seek": segment.seek, "start": segment.start, "end": segment.end, "text": segment.text,
        "tokens": list(segment.tokens), "temperature": segment.temperature, "avg_logprob": segment.avg_logprob,
        "compression_ratio": segment.compression_ratio, "no_speech_prob": segment.no_speech_prob,
    }


def _word(word: Word) -> dict[str, Any]:
    return {"word": word.word.strip(), "start": word.start, "end": word.end}


def verbose_body(transcript: Transcript, task: Task, words: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task": task,
        "language": "english" if task == "translate" else language_name(transcript.language),
        "duration": transcript.duration,
        "text": transcript.text,
        "segments": [_segment(s) for s in transcript.segments],
    }
    if words:
        body["words"] = [_word(w) for w in transcript.words]
    if task == "transcribe":
        body["usage"] = _usage(transcript)
    return body


def json_body(transcript: Transcript, task: Task) -> dict[str, Any]:
    if task == "translate":
        return {"text": transcript.text}
    return {"text": transcript.text, "usage": _usage(transcript)}


def _stamp(seconds: float, decimal: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def srt(transcript: Transcript) -> str:
    cues = [
        f"{n}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text.strip()}\n"
        for n, s in enumerate(transcript.segments, start=1)
    ]
    return "\n".join(cues)


def vtt(transcript: Transcript) -> str:
    cues = [f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text.strip()}\n" for s in transcript.segments]
    return "WEBVTT\n\n" + "\n".join(cues)


def encode_transcript(transcript: Transcript, response_format: TranscriptFormat, task: Task,
                      words: bool) -> tuple[dict[str, Any] | str, str]:
    """The body (a JSON object or text) and its media type."""
    if response_format == "json":
        return json_body(transcript, task), "application/json"
    if response_format == "verbose_json":
        return verbose_body(transcript, task, words), "application/json"
    if response_format == "srt":
        return srt(transcript), "text/plain; charset=utf-8"
    if response_format == "vtt":
        return vtt(transcript), "text/vtt; charset=utf-8"
    return transcript.text + "\n", "text/plain; charset=utf-8"


def text_delta(delta: str) -> dict[str, Any]:
    return {"type": "transcript.text.delta", "delta": delta}


def token_usage(usage: TranscriptUsage) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "tokens", "input_tokens": usage.usage.input_tokens,
                            "output_tokens": usage.usage.output_tokens, "total_tokens": usage.usage.total_tokens}
    if usage.audio_tokens is not None or usage.text_tokens is not None:
        body["input_token_details"] = {"audio_tokens": usage.audio_tokens or 0, "text_tokens": usage.text_tokens or 0}
    return body


def text_done(transcript: Transcript) -> dict[str, Any]:
    """The last stream event; with the backend's token usage when it reported one."""
    done: dict[str, Any] = {"type": "transcript.text.done", "text": transcript.text}
    if transcript.usage is not None:
        done["usage"] = token_usage(transcript.usage)
    return done
