"""Image and moderation calls, metered like embeddings: the call's worst case is reserved
against the caller's budgets before it starts, and its cost is settled from the usage the
backend reports (``set_usage``); a call without a price costs nothing and reserves nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.usage import Usage
from switchyard.gateway.metered_calls import error_outcome
from switchyard.gateway.metering import current_meter
from switchyard.gateway.prices import cost_nanousd, image_nanousd, nano_to_usd, worst_case_nanousd
from switchyard.gateway.telemetry.request_trace import observe_cost


class SetUsage(Protocol):
    """What the call used: its usage as the backend reports it, and the images it made
    (for a price per image)."""

    def __call__(self, usage: Usage, images: int = 0) -> None: ...


@contextlib.asynccontextmanager
async def metered(kind: str, config: ModelConfig, input_tokens: int, output_tokens: int,
                  images: int = 0) -> AsyncIterator[SetUsage]:
    """``input_tokens``/``output_tokens``/``images``: the call's worst case, before any margin."""
    meter = current_meter()
    if meter is None:
        yield lambda usage, images=0: None
        return
    call = meter.open_call(kind, config.name)
    made = 0

    def set_usage(usage: Usage, images: int = 0) -> None:
        nonlocal made
        call.usage, made = usage, images

    try:
        margin = meter.config.prompt_estimate_margin
        await meter.reserve(call, config.price, lambda: worst_case_nanousd(
            config.price, int(input_tokens * margin) + 1, output_tokens) + image_nanousd(config.price, images))
        yield set_usage
    except SwitchyardError as error:
        if call.outcome == "completed":
            call.outcome, call.error_code = error_outcome(error), error.code or error.kind.value
        raise
    except (asyncio.CancelledError, GeneratorExit):
        call.outcome = meter.left_outcome
        raise
    finally:
        call.cost_nanousd = cost_nanousd(config.price, call.usage) + image_nanousd(config.price, made)
        observe_cost(nano_to_usd(call.cost_nanousd), config.name)
        meter.end_call(call)
