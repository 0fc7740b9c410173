"""The events of an agent run: its model turns' events (``Event``, built-in tool items
included) between a ``RunStarted`` and one ``RunFinished``. A surface encodes them
into its own wire format (Responses stream events, Assistants run events)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import Event
from switchyard.core.usage import Usage

RunStatus = Literal["completed", "incomplete", "failed", "cancelled"]


@dataclass(slots=True)
class RunStarted:
    """Sent once, before anything else the run shows."""


@dataclass(slots=True)
class RunFinished:
    """The last event. ``incomplete_reason`` with ``incomplete`` (``max_output_tokens``),
    ``error`` with ``failed``; ``usage`` is the sum over the run's model turns.
    A run cancelled before it started sends only this."""

    status: RunStatus
    usage: Usage
    finished_at: int
    error: SwitchyardError | None = None
    incomplete_reason: str | None = None


RunEvent = Event | RunStarted | RunFinished
