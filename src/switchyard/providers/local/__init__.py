"""The embedded local provider: GGUF models run in-process with llama.cpp."""

from switchyard.providers.local.model_files import ModelUnavailable, ensure_default_model
from switchyard.providers.local.provider import LocalProvider

__all__ = ["LocalProvider", "ModelUnavailable", "ensure_default_model"]
