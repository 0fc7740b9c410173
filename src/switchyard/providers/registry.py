"""Provider kinds, by the name the config uses."""

from __future__ import annotations

from pathlib import Path

from switchyard.config import ModelConfig
from switchyard.providers.base import Provider


def build_provider(config: ModelConfig, data_dir: Path) -> Provider:
    if config.provider == "openai":
        from switchyard.providers.openai import OpenAIProvider

        return OpenAIProvider(config)
    if config.provider == "openai-responses":
        from switchyard.providers.openai_responses import OpenAIResponsesProvider

        return OpenAIResponsesProvider(config)
    if config.provider == "anthropic":
        from switchyard.providers.anthropic import AnthropicProvider

        return AnthropicProvider(config)
    from switchyard.providers.local import LocalProvider  # needs the 'local' extra

    return LocalProvider(config, data_dir)
