"""Moderation models (``task: moderation``): the embedded classifier (``provider: local``)
or an OpenAI-compatible ``/moderations`` upstream (``provider: openai``). Serves
``/v1/moderations`` and the per-project guardrail (``guardrail.py``)."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_moderations import DEFAULT_MODEL
from switchyard.config import ModelConfig
from switchyard.core.errors import invalid
from switchyard.core.moderation import ModerationInput, Verdict
from switchyard.core.usage import Usage
from switchyard.gateway.metered_media import metered
from switchyard.gateway.router import ModelRegistry
from switchyard.gateway.task_models import TaskModels
from switchyard.providers.moderator import Moderator


def _build(config: ModelConfig, chat: ModelRegistry | None) -> Moderator:
    if config.policy_model is not None:
        if chat is None:
            raise invalid(f"The model '{config.name}' needs chat models, which this process has none of.", "model")
        from switchyard.gateway.policy_moderation import ChatPolicyModerator

        return ChatPolicyModerator(config, chat.resolve)
    if config.provider == "local":
        from switchyard.providers.local_moderation import LocalModerator

        return LocalModerator(config)
    if config.provider == "openai":
        from switchyard.providers.openai_moderation import OpenAIModerator

        return OpenAIModerator(config)
    raise invalid(f"The model '{config.name}' uses provider '{config.provider}', which has no moderation API.",
                  "model", "model_not_supported")


class ModerationModels:
    def __init__(self, models: list[ModelConfig], chat: ModelRegistry | None = None) -> None:
        self._models: TaskModels[Moderator] = TaskModels(models, "moderation", "moderation",
                                                         lambda config: _build(config, chat))

    async def start(self) -> None:
        """Load the embedded classifiers now rather than on the first call (a guarded
        project's first chat call would wait for them)."""
        for config in self._models.configured():
            if config.provider == "local" and config.policy_model is None:
                _, moderator = self._models.backend(config.name)
                start = getattr(moderator, "start", None)
                if start is not None:
                    await start()

    def name_for(self, asked: str | None) -> str:
        """The model to use: the one asked for; else OpenAI's default name where it is
        served as a moderation model (an alias), else the first moderation model."""
        if asked is not None:
            return asked
        served = self._models.find(DEFAULT_MODEL)
        if served is not None and served.task == "moderation":
            return DEFAULT_MODEL
        return self.default_name() or DEFAULT_MODEL

    def default_name(self) -> str | None:
        configured = self._models.configured()
        return configured[0].name if configured else None

    def takes_images(self, name: str) -> bool:
        """Whether the model classifies images (relayed models do; the embedded one does not)."""
        config = self._models.config(name)
        return config.provider != "local" and config.policy_model is None

    def config(self, name: str) -> ModelConfig:
        return self._models.config(name)

    async def moderate(self, name: str, inputs: list[ModerationInput],
                       wire_input: Any | None = None) -> tuple[ModelConfig, list[Verdict]]:
        config, moderator = self._models.backend(name)
        tokens = sum(len(item.text) // 4 + 1 for item in inputs)  # the cheap estimate; no backend reports usage
        async with metered("moderations", config, tokens, 0) as set_usage:
            verdicts = await moderator.moderate(inputs, wire_input)
            set_usage(Usage(input_tokens=tokens))
        return config, verdicts

    async def aclose(self) -> None:
        await self._models.aclose()
