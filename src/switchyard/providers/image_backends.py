"""Image backends by provider kind (``task: image`` models): what each kind is built as."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from switchyard.config import ModelConfig
from switchyard.providers.gemini_images import GeminiImages
from switchyard.providers.openai_images import OpenAIImages, UploadedFile
from switchyard.providers.stability_images import StabilityImages


class ImageBackend(Protocol):
    """Images API operations on one upstream, answered in the Images API's own shape
    (``data[].b64_json`` or ``url``, ``usage`` where the upstream reports it)."""

    config: ModelConfig

    async def create(self, operation: str, fields: dict[str, Any],
                     files: list[UploadedFile]) -> dict[str, Any]: ...

    def stream(self, operation: str, fields: dict[str, Any],
               files: list[UploadedFile]) -> AsyncIterator[dict[str, Any]]: ...

    async def fetch(self, url: str) -> bytes: ...

    async def aclose(self) -> None: ...


IMAGE_BACKENDS: dict[str, Callable[[ModelConfig], ImageBackend]] = {
    "openai": OpenAIImages,
    "gemini": GeminiImages,
    "stability": StabilityImages,
}
