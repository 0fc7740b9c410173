"""One small request straight to one deployment (no routing, limits, breaker or ledger):
the operator's "test this deployment" button."""

from __future__ import annotations

import time
from dataclasses import dataclass

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import Failure, TextDelta
from switchyard.core.items import Message, TextPart
from switchyard.core.request import Request
from switchyard.gateway.deployments import Deployment

PROMPT = "Reply with the single word: ready"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    deployment_id: str
    ok: bool
    latency_ms: int
    text: str
    error: str | None = None


async def probe(deployment: Deployment, prompt: str = PROMPT, max_tokens: int = 16) -> ProbeResult:
    request = Request(model=deployment.model, items=[Message("user", [TextPart(prompt)])],
                      max_output_tokens=max_tokens)
    started = time.perf_counter()
    text: list[str] = []
    error: str | None = None
    try:
        async for event in deployment.provider.generate(request):
            if isinstance(event, TextDelta):
                text.append(event.text)
            elif isinstance(event, Failure):
                error = event.error.message
                break
    except SwitchyardError as failure:
        error = failure.message
    elapsed = int((time.perf_counter() - started) * 1000)
    return ProbeResult(deployment.id, error is None, elapsed, "".join(text), error)
