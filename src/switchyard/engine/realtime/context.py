"""What a realtime session needs from the process: routing, speech models, metering and
the caller, gathered by the surface."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchyard.gateway.audio_router import AudioRegistry
from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope
from switchyard.gateway.metering import Metering
from switchyard.gateway.router import ModelRegistry

Send = Callable[[dict[str, Any]], Awaitable[None]]
Observe = Callable[[], contextlib.AbstractAsyncContextManager[Any]]
SURFACE = "openai.realtime"


@dataclass(slots=True)
class RealtimeContext:
    models: ModelRegistry
    audio: AudioRegistry
    metering: Metering
    principal: Principal
    data_dir: Path
    transcription_model: str  # turns the user's speech into the model's input
    speech_model: str  # speaks the model's answers
    check_model: Callable[[str], None]  # raises for a model the caller may not use
    observe: Observe  # one call, measured and logged like an HTTP request
    caller_live: Callable[[], Awaitable[bool]]  # the caller's key still works (not revoked, disabled, expired)
    transcribe_at_pauses: bool = True

    @contextlib.asynccontextmanager
    async def call(self) -> AsyncIterator[Any]:
        """One metered and observed unit of work (a response, a transcription): one ledger entry."""
        async with self.observe() as trace:
            with self.metering.scoped(CallScope(self.principal, SURFACE)):
                yield trace
