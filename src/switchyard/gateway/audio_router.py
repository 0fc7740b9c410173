"""Where speech requests go: public model names (and alias patterns) of ``task:
transcription`` and ``task: speech`` models to their backends, built on first use and
metered. ``provider: local`` runs the embedded Whisper or voice; ``provider: openai`` relays
to an OpenAI-compatible upstream's audio endpoints. A model of another task is named in a 400."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from switchyard.config import ModelConfig, Settings
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.metered_audio import MeteredSpeaker, MeteredTranscriber

_TASKS = {"transcription": "transcriptions and translations", "speech": "speech"}


def _not_found(name: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"The model '{name}' does not exist or you do not have access to it.",
                           param="model", code="model_not_found")


def _no_backend(config: ModelConfig, what: str) -> SwitchyardError:
    return invalid(f"The model '{config.name}' uses provider '{config.provider}', which has no {what} API.",
                   param="model", code="model_not_supported")


class AudioRegistry:
    def __init__(self, models: list[ModelConfig], data_dir: Path) -> None:
        self._models = {m.name: m for m in models}
        self._aliases = [(a, m) for m in models for a in m.aliases]
        self._data_dir = Path(data_dir)
        self._transcribers: dict[str, MeteredTranscriber] = {}
        self._speakers: dict[str, MeteredSpeaker] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> AudioRegistry:
        return cls(list(settings.models), settings.data_dir)

    def find(self, name: str) -> ModelConfig | None:
        config = self._models.get(name)
        if config is not None:
            return config
        return next((m for pattern, m in self._aliases if fnmatch.fnmatchcase(name, pattern)), None)

    def _config(self, name: str, task: str) -> ModelConfig:
        config = self.find(name)
        if config is None:
            raise _not_found(name)
        if config.task != task:
            raise invalid(f"The model '{config.name}' is a {config.task} model and cannot be used for "
                          f"{_TASKS[task]}; choose a model configured with task: {task}.",
                          param="model", code="model_not_supported")
        return config

    def transcriber(self, name: str) -> MeteredTranscriber:
        config = self._config(name, "transcription")
        if config.name not in self._transcribers:
            self._transcribers[config.name] = MeteredTranscriber(self._build_transcriber(config), config)
        return self._transcribers[config.name]

    def speaker(self, name: str) -> MeteredSpeaker:
        config = self._config(name, "speech")
        if config.name not in self._speakers:
            self._speakers[config.name] = MeteredSpeaker(self._build_speaker(config), config)
        return self._speakers[config.name]

    def _build_transcriber(self, config: ModelConfig) -> Any:
        if config.provider == "local":
            from switchyard.providers.audio.whisper import LocalTranscriber

            return LocalTranscriber(config, self._data_dir)
        if config.provider == "openai":
            from switchyard.providers.audio.relay import OpenAITranscriber

            return OpenAITranscriber(config)
        raise _no_backend(config, "transcription")

    def _build_speaker(self, config: ModelConfig) -> Any:
        if config.provider == "local":
            from switchyard.providers.audio.voice import LocalSpeaker

            return LocalSpeaker(config, self._data_dir)
        if config.provider == "openai":
            from switchyard.providers.audio.relay import OpenAISpeaker

            return OpenAISpeaker(config)
        raise _no_backend(config, "speech")

    async def aclose(self) -> None:
        for backend in [*self._transcribers.values(), *self._speakers.values()]:
            await backend.aclose()
        self._transcribers.clear()
        self._speakers.clear()
