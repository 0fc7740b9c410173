"""Moderation in canonical form: what is classified, and the verdict on it.

The categories and which input types each one may apply to are OpenAI's
(``CreateModerationResponse``): every backend answers with all thirteen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

InputType = Literal["text", "image"]

# category -> the input types its score may be based on (OpenAI's omni-moderation table)
CATEGORIES: Mapping[str, tuple[InputType, ...]] = {
    "harassment": ("text",),
    "harassment/threatening": ("text",),
    "hate": ("text",),
    "hate/threatening": ("text",),
    "illicit": ("text",),
    "illicit/violent": ("text",),
    "self-harm": ("text", "image"),
    "self-harm/intent": ("text", "image"),
    "self-harm/instructions": ("text", "image"),
    "sexual": ("text", "image"),
    "sexual/minors": ("text",),
    "violence": ("text", "image"),
    "violence/graphic": ("text", "image"),
}


@dataclass(frozen=True, slots=True)
class ModerationInput:
    """One thing to classify: a string, or the text and image parts of one multimodal input.
    ``image_paths`` are the client's field paths of the images (for errors)."""

    texts: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # URLs or data URLs
    image_paths: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One input's result. ``flagged`` is any category flagged."""

    categories: Mapping[str, bool]
    scores: Mapping[str, float]
    applied: Mapping[str, tuple[InputType, ...]] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return any(self.categories.values())

    def flagged_categories(self) -> list[str]:
        return [name for name, hit in self.categories.items() if hit]


def verdict_from_scores(scores: Mapping[str, float], threshold: float,
                        applied: Mapping[str, tuple[InputType, ...]]) -> Verdict:
    """Every category, scored 0 where ``scores`` says nothing; flagged at ``threshold`` or above."""
    full = {name: float(scores.get(name, 0.0)) for name in CATEGORIES}
    return Verdict(
        categories={name: score >= threshold for name, score in full.items()},
        scores=full,
        applied={name: applied.get(name, ()) for name in CATEGORIES},
    )
