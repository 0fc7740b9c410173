"""The embedded local provider: GGUF models run in-process with llama.cpp.

``LocalProvider`` is imported on first use, so that the packaged-model helpers
(``model_files``) stay usable without llama.cpp (the speech models assemble their files
with them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchyard.providers.local.model_files import ModelUnavailable, ensure_default_model

if TYPE_CHECKING:
    from switchyard.providers.local.provider import LocalProvider

__all__ = ["LocalProvider", "ModelUnavailable", "ensure_default_model"]


def __getattr__(name: str) -> Any:
    if name == "LocalProvider":
        from switchyard.providers.local.provider import LocalProvider

        return LocalProvider
    raise AttributeError(name)
