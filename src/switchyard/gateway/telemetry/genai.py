"""Names from the OpenTelemetry GenAI semantic conventions that spans here use."""

from __future__ import annotations

from collections.abc import Mapping

# gen_ai.provider.name by provider kind (the well-known values where one exists)
PROVIDER_NAMES: Mapping[str, str] = {
    "openai": "openai",
    "openai-responses": "openai",
    "anthropic": "anthropic",
    "local": "llama.cpp",
}

AttributeValue = str | int | float | bool | list[str]
