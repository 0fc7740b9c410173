"""What the ``image_generation`` tool needs of the Images service (``engine/images``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class ImageMaker(Protocol):
    async def generate_inline(self, model: str | None, prompt: str, options: dict[str, Any],
                              owner_id: str) -> dict[str, Any]:
        """One image as ``{"b64_json", "revised_prompt"?}`` with the answer's settings."""
        ...

    def stream_inline(self, model: str | None, prompt: str, options: dict[str, Any],
                      partial_images: int) -> AsyncIterator[dict[str, Any]]:
        """The upstream's ``image_generation.partial_image`` / ``.completed`` / ``error`` events."""
        ...
