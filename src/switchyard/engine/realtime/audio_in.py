"""The heard half of an audio turn: a stretch of input audio (16-bit PCM at 24 kHz)
written as a WAV file and transcribed by the transcription model (which decodes and
resamples it to Whisper's 16 kHz), segment by segment, metered as a transcription.
``Transcribing`` runs one as a task whose pieces can be read as they come, by whoever
needs them, once it is known whether they are wanted (a turn transcribed at a pause,
before the turn is known to have ended)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from switchyard.core.audio import AudioFile, Segment, TranscriptionRequest, TranscriptText
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.metered_audio import MeteredTranscriber

log = logging.getLogger("switchyard")
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
        request = TranscriptionRequest(model=model, file=audio, language=language, prompt=prompt, stream=True)
        first = True
        async for event in transcriber.transcribe(request):
            # Whisper's segments as it recognises them; a streaming upstream's text deltas
            if not isinstance(event, Segment | TranscriptText) or (first and not event.text.strip()):
                continue
            yield event.text.lstrip() if first else event.text
            first = False


class Transcribing:
    """One transcription running as a task (inside ``scope``, a metered call); its pieces
    are kept, and ``pieces()`` reads them from the first, waiting for more until it ends."""

    def __init__(self, run: Callable[[], AsyncIterator[str]],
                 scope: Callable[[], contextlib.AbstractAsyncContextManager[Any]], ms: float) -> None:
        self.ms = ms  # the length of the audio transcribed
        self.got: list[str] = []
        self.error: SwitchyardError | None = None
        self.finished = False
        self._changed = asyncio.Event()
        self.task = asyncio.create_task(self._run(run, scope))

    async def _run(self, run: Callable[[], AsyncIterator[str]],
                   scope: Callable[[], contextlib.AbstractAsyncContextManager[Any]]) -> None:
        try:
            async with scope():
                try:
                    async for piece in run():
                        self.got.append(piece)
                        self._changed.set()
                except asyncio.CancelledError:  # not wanted after all: the call itself went well
                    self.error = SwitchyardError(ErrorKind.SERVER, "The transcription was cancelled.")
        except SwitchyardError as error:
            self.error = error
        except Exception:
            log.exception("realtime transcription failed")
            self.error = SwitchyardError(ErrorKind.SERVER, "Transcription failed.")
        finally:
            self.finished = True
            self._changed.set()

    @property
    def text(self) -> str:
        return "".join(self.got).strip()

    def cancel(self) -> None:
        self.task.cancel()

    async def pieces(self) -> AsyncIterator[str]:
        """Every piece, in order; raises the transcription's error at its end."""
        seen = 0
        while True:
            while seen < len(self.got):
                seen += 1
                yield self.got[seen - 1]
            if self.finished:
                if self.error is not None:
                    raise self.error
                return
            self._changed.clear()
            await self._changed.wait()
