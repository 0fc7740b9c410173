"""Models of one task that are not chat models (moderation, image), by public name or
alias pattern, each backend built on first use.

A name that belongs to a model of another task is a 400 naming ``model`` (so a caller
learns why); a name nobody serves is a 404; no model of the task at all is a 400 that
says none is configured.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid


class Closeable(Protocol):
    async def aclose(self) -> None: ...


B = TypeVar("B", bound=Closeable)


class TaskModels(Generic[B]):
    def __init__(self, models: list[ModelConfig], task: str, what: str,
                 build: Callable[[ModelConfig], B]) -> None:
        self._all = {m.name: m for m in models}
        self._aliases = [(a, m) for m in models for a in m.aliases]
        self.task = task
        self._what = what  # "moderation", "image generation": for messages
        self._build = build
        self._built: dict[str, B] = {}

    def configured(self) -> list[ModelConfig]:
        return [m for m in self._all.values() if m.task == self.task]

    def find(self, name: str) -> ModelConfig | None:
        config = self._all.get(name)
        if config is not None:
            return config
        for pattern, candidate in self._aliases:
            if candidate.task == self.task and fnmatch.fnmatchcase(name, pattern):
                return candidate
        return next((m for p, m in self._aliases if fnmatch.fnmatchcase(name, p)), None)

    def config(self, name: str) -> ModelConfig:
        if not self.configured():
            raise invalid(
                f"No {self._what} model is configured on this server, so '{name}' cannot be served: "
                f"add a model with task: {self.task} to the configuration (see docs).",
                "model", "model_not_configured")
        config = self.find(name)
        if config is None:
            raise SwitchyardError(
                ErrorKind.NOT_FOUND, f"The model '{name}' does not exist or you do not have access to it.",
                param="model", code="model_not_found")
        if config.task != self.task:
            raise invalid(
                f"The model '{name}' is a {config.task} model and cannot be used for {self._what}; "
                f"choose one of: {', '.join(m.name for m in self.configured())}.",
                "model", "model_not_supported")
        return config

    def backend(self, name: str) -> tuple[ModelConfig, B]:
        config = self.config(name)
        if config.name not in self._built:
            self._built[config.name] = self._build(config)
        return config, self._built[config.name]

    async def aclose(self) -> None:
        built, self._built = list(self._built.values()), {}
        for backend in built:
            await backend.aclose()
