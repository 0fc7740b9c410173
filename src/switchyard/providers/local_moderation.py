"""The embedded moderation classifier: ``alt-profanity-check`` (a linear SVM over a
TF-IDF bag of words, trained on offensive-language data sets, weights in the package).

It gives one number per text: the probability that the text is offensive or profane.
That number becomes the ``harassment`` score, the only category it can speak to; the
other twelve categories are scored 0 and applied to no input type. Images cannot be
classified (a 400 naming the image). See docs/moderation.md.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.moderation import InputType, ModerationInput, Verdict, verdict_from_scores

INSTALL_HINT = "pip install alt-profanity-check==1.9.1 (the 'local' extra)"
SCORED: tuple[str, ...] = ("harassment",)  # the categories the classifier's one score stands for
DEFAULT_THRESHOLD = 0.5  # the package's own predict() cut-off


def _load() -> Callable[[list[str]], Any]:
    try:
        from profanity_check import predict_prob
    except ImportError as exc:  # the package, or its exact scikit-learn, is missing
        raise SwitchyardError(ErrorKind.SERVER, f"the embedded moderation model is not installed: {INSTALL_HINT}",
                              code="model_unavailable") from exc
    return predict_prob  # type: ignore[no-any-return]


class LocalModerator:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.threshold = config.threshold if config.threshold is not None else DEFAULT_THRESHOLD
        self._predict: Callable[[list[str]], Any] | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> Callable[[list[str]], Any]:
        with self._lock:  # loaded once; predicting only reads the fitted vectorizer and model
            if self._predict is None:
                self._predict = _load()
            return self._predict

    def _scores(self, texts: list[str]) -> list[float]:
        return [float(p) for p in self._loaded()(texts)]

    async def start(self) -> None:
        await asyncio.to_thread(self._loaded)

    async def moderate(self, inputs: list[ModerationInput], wire_input: Any | None = None) -> list[Verdict]:
        for item in inputs:
            if item.images:
                raise invalid(
                    f"The model '{self.config.name}' (the embedded text classifier) cannot classify images; "
                    "send text, or use a moderation model relayed to an upstream that takes images.",
                    item.image_paths[0] if item.image_paths else "input", "image_not_supported")
        texts = [item.text for item in inputs]
        scores = await asyncio.to_thread(self._scores, texts) if texts else []
        applied: dict[str, tuple[InputType, ...]] = {name: ("text",) for name in SCORED}
        return [verdict_from_scores({name: score for name in SCORED}, self.threshold, applied) for score in scores]

    async def aclose(self) -> None:
        return None
