"""The embedded voice: hibari (a small Kokoro-derived model on onnxruntime, 24 kHz), whose
package carries one voice, ``heart``. OpenAI's voice names are all spoken with it, so that
clients written for OpenAI work offline; hibari's other voices are downloaded on first use
and so are refused here. Sentences are synthesised one at a time and each is encoded and
sent as soon as it is ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from switchyard.config import ModelConfig
from switchyard.core.audio import SpeechRequest
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.providers.audio.encode import encoder
from switchyard.providers.audio.worker import threaded

RATE = 24_000
BUNDLED_VOICE = "heart"
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
                 "marin", "cedar")
VOICES = (BUNDLED_VOICE, *OPENAI_VOICES)
MIN_SPEED, MAX_SPEED = 0.5, 2.0
INSTALL_HINT = "pip install 'switchyard[local]' (hibari-tts)"


class LocalSpeaker:
    """``provider: local, task: speech``; loads on first use."""

    def __init__(self, config: ModelConfig, data_dir: Path) -> None:
        self.config = config
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="switchyard-voice")
        self._model: Any = None
        self._lock = asyncio.Lock()

    def check(self, request: SpeechRequest) -> None:
        if request.voice not in VOICES:
            raise invalid(f"'voice' {request.voice!r} is not available on model '{self.config.name}'; "
                          f"choose one of {', '.join(VOICES)} (all are spoken by the bundled voice "
                          f"'{BUNDLED_VOICE}').", "voice", "invalid_value")
        if not MIN_SPEED <= request.speed <= MAX_SPEED:
            raise invalid(f"'speed' must be between {MIN_SPEED} and {MAX_SPEED} on model '{self.config.name}'.",
                          "speed", "invalid_value")

    def _load(self) -> Any:
        try:
            from hibari import Hibari
        except ImportError as exc:
            raise SwitchyardError(ErrorKind.SERVER, f"the embedded voice needs {exc.name}: {INSTALL_HINT}",
                                  code="model_unavailable") from exc
        return Hibari(voice=BUNDLED_VOICE, threads=self.config.threads or 1)

    async def start(self) -> None:
        async with self._lock:
            if self._model is None:
                self._model = await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def _chunks(self, request: SpeechRequest) -> Iterator[bytes]:
        encode = encoder(request.response_format, RATE)
        for samples in self._model.stream(request.input, speed=request.speed):
            data = encode.add(samples)
            if data:
                yield data
        tail = encode.finish()
        if tail:
            yield tail

    async def speak(self, request: SpeechRequest) -> AsyncIterator[bytes]:
        self.check(request)
        await self.start()
        async for chunk in threaded(self._executor, lambda: self._chunks(request)):
            yield chunk

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
