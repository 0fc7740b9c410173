"""The moderation guardrail on model output (a project's ``output_mode``): the text a model
writes (and its refusals) classified by the project's moderation model before the client
sees it.

A non-streaming answer is checked once, whole, before it is returned. A stream is held back
from its first text on and released a window at a time: once ``WINDOW`` characters of a
choice's text are unchecked they are classified, sentence by sentence (with the ``OVERLAP``
characters before them, so that a sentence cut between windows is seen whole) and what was held is sent; what
is left is checked when the model's stream ends. Events without text before any text
(the stream's start) pass at once. Then, by the mode:

- ``block``: the answer ends with a ``Failure`` (400 ``output_blocked``), which each surface
  renders as its error (an error answer, or its stream's error event); the flagged text is
  never sent.
- ``flag``: the categories go in ``x-switchyard-moderation-output-flagged`` where the
  headers are still to be sent (non-streaming answers) and a warning is logged.
- ``log``: a warning is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event, Failure, RefusalDelta, TextDelta
from switchyard.core.moderation import ModerationInput
from switchyard.gateway.grants import GuardrailPolicy
from switchyard.gateway.guardrail_classify import classify
from switchyard.gateway.telemetry.request_trace import RequestTrace

log = logging.getLogger("switchyard.guardrail")

WINDOW = 200  # characters of a choice's new text classified at a time in a stream
OVERLAP = 100  # characters already checked, classified again with the next window

OUTPUT_FLAG_HEADER = "x-switchyard-moderation-output-flagged"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(window: str) -> list[str]:
    """A window's sentences, each classified on its own (a bag-of-words classifier would let
    one offensive sentence drown in a long benign answer)."""
    return [part.strip() for part in _SENTENCE_END.split(window) if part.strip()]


class _Texts:
    """Each choice's text so far and how much of it has been checked."""

    def __init__(self) -> None:
        self.text: dict[int, str] = {}
        self.checked: dict[int, int] = {}

    def add(self, choice: int, text: str) -> None:
        self.text[choice] = self.text.get(choice, "") + text

    def unchecked(self, choice: int | None = None) -> int:
        choices = self.text if choice is None else (choice,)
        return max((len(self.text.get(c, "")) - self.checked.get(c, 0) for c in choices), default=0)

    def take(self) -> list[str]:
        """The windows to classify (one per choice with unchecked text), now counted as checked."""
        windows = []
        for choice, text in self.text.items():
            done = self.checked.get(choice, 0)
            if len(text) > done and text[max(0, done - OVERLAP):].strip():
                windows.append(text[max(0, done - OVERLAP):])
            self.checked[choice] = len(text)
        return windows


async def _verdict(trace: RequestTrace, policy: GuardrailPolicy, windows: list[str]) -> SwitchyardError | None:
    """The error that ends the answer, if the output is blocked (or cannot be checked in block mode)."""
    mode = policy.output_mode or "log"
    inputs = [ModerationInput(texts=(sentence,)) for window in windows for sentence in sentences(window)]
    try:
        found = await classify(trace, policy, mode, "output", lambda images: inputs)
    except SwitchyardError as error:
        return error
    if found is None or not found[1]:
        return None
    model, hits = found
    if mode == "block":
        return SwitchyardError(
            ErrorKind.INVALID_REQUEST,
            f"The model's output was blocked by this project's moderation guardrail (model '{model}'): "
            f"flagged for {', '.join(hits)}.", code="output_blocked")
    if mode == "flag":
        trace.output_moderation_flags = tuple(sorted({*trace.output_moderation_flags, *hits}))
    return None


async def screened_output(trace: RequestTrace, policy: GuardrailPolicy, stream: bool,
                          events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events`` as the project's output guardrail lets them through (see the module)."""
    texts = _Texts()
    held: list[Event] = []
    try:
        async for event in events:
            if isinstance(event, TextDelta | RefusalDelta):
                texts.add(event.choice, event.text)
            if not held and not texts.unchecked():
                yield event
                continue
            held.append(event)
            if stream and isinstance(event, TextDelta | RefusalDelta) and texts.unchecked(event.choice) >= WINDOW:
                error = await _verdict(trace, policy, texts.take())
                if error is not None:
                    yield Failure(error)
                    return
                released, held = held, []
                for waiting in released:
                    yield waiting
        if texts.unchecked():
            error = await _verdict(trace, policy, texts.take())
            if error is not None:
                yield Failure(error)
                return
        for waiting in held:
            yield waiting
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
