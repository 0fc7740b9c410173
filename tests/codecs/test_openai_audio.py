"""The Audio API codecs, table-driven: form fields in (each refusal naming its field),
transcripts out in every format, speech bodies in, and upstream answers back."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.codecs.openai_audio.speech import audio_delta, audio_done, decode_speech, speech_body
from switchyard.codecs.openai_audio.transcription_in import decode_transcription
from switchyard.codecs.openai_audio.transcription_out import encode_transcript, srt, vtt
from switchyard.codecs.openai_audio.upstream import transcript_from_upstream, transcription_fields
from switchyard.core.audio import AudioFile, Segment, Transcript, TranscriptInfo, Word, fold
from switchyard.core.errors import SwitchyardError

FILE = AudioFile(Path("/nowhere/a.wav"), "a.wav", "audio/wav", 100)


def _segments() -> Transcript:
    return fold([
        Segment(0, 0, 0.0, 1.5, " Hello there.", (1, 2), words=(Word(" Hello", 0.0, 0.5), Word(" there.", 0.5, 1.5))),
        Segment(1, 150, 1.5, 3661.25, " Goodbye.", (3,), words=(Word(" Goodbye.", 1.5, 3661.25),)),
        TranscriptInfo("en", 3661.3),
    ])


@pytest.mark.parametrize(("fields", "param"), [
    ({}, "model"),
    ({"model": ["m"], "response_format": ["xml"]}, "response_format"),
    ({"model": ["m"], "temperature": ["1.5"]}, "temperature"),
    ({"model": ["m"], "temperature": ["warm"]}, "temperature"),
    ({"model": ["m"], "stream": ["maybe"]}, "stream"),
    ({"model": ["m"], "stream": ["true"], "response_format": ["srt"]}, "stream"),
    ({"model": ["m"], "timestamp_granularities[]": ["word"]}, "timestamp_granularities[]"),
    ({"model": ["m"], "response_format": ["verbose_json"], "timestamp_granularities[]": ["char"]},
     "timestamp_granularities[]"),
    ({"model": ["m"], "language": ["english!"]}, "language"),
    ({"model": ["m"], "include[]": ["logprobs"]}, "include[]"),
    ({"model": ["m", "n"]}, "model"),
])
def test_bad_forms_name_the_field(fields: dict, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_transcription(fields, FILE, "transcribe")
    assert caught.value.param == param and caught.value.status == 400


def test_missing_and_empty_files_name_file() -> None:
    for upload in (None, AudioFile(Path("/x"), "x.wav", None, 0)):
        with pytest.raises(SwitchyardError) as caught:
            decode_transcription({"model": ["m"]}, upload, "transcribe")
        assert caught.value.param == "file"


def test_a_full_form() -> None:
    call = decode_transcription({"model": ["m"], "response_format": ["verbose_json"], "language": ["EN"],
                                 "prompt": ["p"], "temperature": ["0.4"],
                                 "timestamp_granularities[]": ["segment", "word"]}, FILE, "transcribe")
    assert (call.model, call.response_format, call.language, call.prompt, call.temperature, call.words) == (
        "m", "verbose_json", "en", "p", 0.4, True)


def test_translations_ignore_stream_and_language() -> None:
    call = decode_transcription({"model": ["m"]}, FILE, "translate")
    assert call.task == "translate" and call.language is None and not call.stream


def test_subrip_and_webvtt_timestamps() -> None:
    transcript = _segments()
    assert srt(transcript) == ("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n"
                               "2\n00:00:01,500 --> 01:01:01,250\nGoodbye.\n")
    assert vtt(transcript) == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n"
                               "00:00:01.500 --> 01:01:01.250\nGoodbye.\n")


@pytest.mark.parametrize(("fmt", "media_type"), [
    ("json", "application/json"), ("verbose_json", "application/json"), ("text", "text/plain; charset=utf-8"),
    ("srt", "text/plain; charset=utf-8"), ("vtt", "text/vtt; charset=utf-8"),
])
def test_every_format_has_its_media_type(fmt: str, media_type: str) -> None:
    assert encode_transcript(_segments(), fmt, "transcribe", False)[1] == media_type  # type: ignore[arg-type]


def test_json_and_verbose_json_bodies() -> None:
    transcript = _segments()
    body, _ = encode_transcript(transcript, "json", "transcribe", False)
    assert body == {"text": "Hello there. Goodbye.", "usage": {"type": "duration", "seconds": 3662}}
    verbose, _ = encode_transcript(transcript, "verbose_json", "transcribe", True)
    assert isinstance(verbose, dict)
    assert verbose["language"] == "english" and verbose["duration"] == 3661.3
    assert [w["word"] for w in verbose["words"]] == ["Hello", "there.", "Goodbye."]
    assert verbose["segments"][1]["seek"] == 150 and verbose["segments"][1]["tokens"] == [3]
    no_words, _ = encode_transcript(transcript, "verbose_json", "translate", False)
    assert isinstance(no_words, dict) and "words" not in no_words and "usage" not in no_words


@pytest.mark.parametrize(("body", "param"), [
    ({"input": "hi", "voice": "v"}, "model"),
    ({"model": "m", "voice": "v"}, "input"),
    ({"model": "m", "input": "  ", "voice": "v"}, "input"),
    ({"model": "m", "input": "hi"}, "voice"),
    ({"model": "m", "input": "hi", "voice": {"name": "x"}}, "voice"),
    ({"model": "m", "input": "hi", "voice": "v", "speed": 0.1}, "speed"),
    ({"model": "m", "input": "hi", "voice": "v", "speed": "fast"}, "speed"),
    ({"model": "m", "input": "hi", "voice": "v", "response_format": "ogg"}, "response_format"),
    ({"model": "m", "input": "hi", "voice": "v", "stream_format": "chunks"}, "stream_format"),
    ({"model": "m", "input": "hi", "voice": "v", "volume": 3}, "volume"),
])
def test_bad_speech_bodies_name_the_field(body: dict, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_speech(body)
    assert caught.value.param == param


def test_speech_body_round_trip() -> None:
    call = decode_speech({"model": "m", "input": "hi", "voice": {"id": "voice_1"}, "speed": 2,
                          "response_format": "wav", "stream_format": "sse"})
    assert (call.voice, call.speed, call.response_format, call.sse) == ("voice_1", 2.0, "wav", True)
    assert speech_body(call, "up") == {"model": "up", "input": "hi", "voice": {"id": "voice_1"},
                                       "response_format": "wav", "speed": 2.0}
    named = decode_speech({"model": "m", "input": "hi", "voice": "coral"})
    assert speech_body(named, "up")["voice"] == "coral"
    assert audio_delta(b"\x00\x01") == {"type": "speech.audio.delta", "audio": "AAE="}
    assert audio_done(3, 0)["usage"] == {"input_tokens": 3, "output_tokens": 0, "total_tokens": 3}


def test_upstream_fields_ask_for_segments_only_when_needed() -> None:
    srt_call = decode_transcription({"model": ["m"], "response_format": ["srt"]}, FILE, "transcribe")
    assert ("response_format", "verbose_json") in transcription_fields(srt_call, "whisper-1")
    json_call = decode_transcription({"model": ["m"]}, FILE, "transcribe")
    assert ("response_format", "json") in transcription_fields(json_call, "whisper-1")


def test_upstream_answers() -> None:
    plain = transcript_from_upstream({"text": "Hi.", "usage": {"type": "duration", "seconds": 2}}, "en")
    assert (plain.text, plain.duration, plain.language, len(plain.segments)) == ("Hi.", 2.0, "en", 1)
    verbose = transcript_from_upstream({
        "language": "english", "duration": 2.0, "text": "A b.",
        "segments": [{"id": 0, "start": 0, "end": 1, "text": " A"}, {"id": 1, "start": 1, "end": 2, "text": " b."}],
        "words": [{"word": "A", "start": 0.1, "end": 0.5}, {"word": "b.", "start": 1.2, "end": 2.0}],
    }, None)
    assert verbose.language == "en" and [len(s.words) for s in verbose.segments] == [1, 1]
    with pytest.raises(SwitchyardError) as caught:
        transcript_from_upstream({"segments": []}, None)
    assert caught.value.kind.value == "upstream"
