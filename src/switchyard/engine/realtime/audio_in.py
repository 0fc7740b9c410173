"""The heard half of an audio turn: a committed stretch of input audio (16-bit PCM at
24 kHz) written as a WAV file and transcribed by the transcription model (which decodes
and resamples it to Whisper's 16 kHz), segment by segment, metered as a transcription."""

from __future__ import annotations

import contextlib
import os
import tempfile
import wave
from collections.abc import AsyncIterator
from pathlib import Path

from switchyard.core.audio import AudioFile, Segment, TranscriptInfo, TranscriptionRequest
from switchyard.gateway.metered_audio import MeteredTranscriber

RATE = 24_000


@contextlib.contextmanager
def wav_file(directory: Path, pcm: bytes):  # type: ignore[no-untyped-def]
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="realtime-", suffix=".wav", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(pcm)
        yield AudioFile(path=path, filename="input.wav", content_type="audio/wav", size=path.stat().st_size)
    finally:
        path.unlink(missing_ok=True)


async def transcribe(transcriber: MeteredTranscriber, directory: Path, pcm: bytes, model: str,
                     language: str | None, prompt: str | None) -> AsyncIterator[str]:
    """The transcript's pieces as they are recognised."""
    with wav_file(directory, pcm) as audio:
        request = TranscriptionRequest(model=model, file=audio, language=language, prompt=prompt)
        first = True
        async for event in transcriber.transcribe(request):
            if isinstance(event, TranscriptInfo) or not isinstance(event, Segment) or not event.text.strip():
                continue
            yield event.text.lstrip() if first else event.text
            first = False
