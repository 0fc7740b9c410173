"""The moderation protocol: a backend that classifies inputs into OpenAI's categories
(``ModelConfig.task == "moderation"``)."""

from __future__ import annotations

from typing import Any, Protocol

from switchyard.core.moderation import ModerationInput, Verdict


class Moderator(Protocol):
    async def moderate(self, inputs: list[ModerationInput], wire_input: Any | None = None) -> list[Verdict]:
        """One verdict per input, in order. ``wire_input`` is the client's ``input`` as sent,
        for a backend that relays it unchanged (None when the inputs were built here)."""
        ...

    async def aclose(self) -> None: ...
