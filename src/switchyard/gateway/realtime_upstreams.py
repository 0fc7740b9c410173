"""Models served by relaying whole realtime sessions (``task: realtime``), by public name
or alias pattern, and the metering of what they report: each ``response.done`` is one
call, with the upstream's usage, priced by the model's ``price``."""

from __future__ import annotations

import fnmatch

from switchyard.config import ModelConfig
from switchyard.core.usage import Usage
from switchyard.gateway.metering import current_meter
from switchyard.gateway.prices import cost_nanousd, nano_to_usd
from switchyard.gateway.telemetry.request_trace import observe_cost
from switchyard.gateway.turn_watch import note_usage


class RealtimeUpstreams:
    def __init__(self, models: list[ModelConfig]) -> None:
        self._models = {m.name: m for m in models if m.task == "realtime"}
        self._aliases = [(a, m) for m in self._models.values() for a in m.aliases]

    def find(self, name: str) -> ModelConfig | None:
        config = self._models.get(name)
        if config is not None:
            return config
        return next((m for pattern, m in self._aliases if fnmatch.fnmatchcase(name, pattern)), None)


def meter_response(config: ModelConfig, usage: Usage) -> None:
    """One relayed response's usage as a call of the request running in this context."""
    meter = current_meter()
    if meter is None:
        return
    call = meter.open_call("completions", config.name)
    call.usage = usage
    note_usage(usage)
    call.cost_nanousd = cost_nanousd(config.price, usage)
    observe_cost(nano_to_usd(call.cost_nanousd), config.name)
    meter.end_call(call)
