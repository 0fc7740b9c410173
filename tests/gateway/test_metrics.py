"""The metrics of one app: its own registry, the router's deployments read at each scrape."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from prometheus_client.parser import text_string_to_metric_families

from switchyard.core.usage import Usage
from switchyard.gateway.telemetry.metrics import Metrics


@dataclass(frozen=True)
class State:
    id: str
    breaker: str
    requests: int
    failures: int
    in_flight: int


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_each_app_counts_alone_and_reads_deployments_at_scrape() -> None:
    first, second = Metrics(), Metrics()
    first.observe_request("openai.chat", "m", 200, 0.02)
    first.observe_tokens("m", Usage(input_tokens=11, output_tokens=7, cached_input_tokens=3))
    first.observe_cost("m", Decimal("0.0125"))
    first.observe_rejection("key", "requests")
    states = [State("m/1", "open", 10, 4, 0), State("m/0", "closed", 30, 0, 2)]
    first.watch_deployments(lambda: states)

    async def depth() -> None:
        first.queue_depth.set(3)

    first.add_refresher(depth)
    seen = samples((await first.exposition()).decode())
    assert seen[("switchyard_requests_total", (("model", "m"), ("status", "200"), ("surface", "openai.chat")))] == 1
    assert seen[("switchyard_tokens_total", (("kind", "cached_input"), ("model", "m")))] == 3
    assert seen[("switchyard_cost_usd_total", (("model", "m"),))] == 0.0125
    assert seen[("switchyard_rate_limit_rejections_total", (("level", "key"), ("reason", "requests")))] == 1
    assert seen[("switchyard_breaker_state", (("deployment", "m/1"),))] == 2
    assert seen[("switchyard_breaker_state", (("deployment", "m/0"),))] == 0
    assert seen[("switchyard_deployment_failures_total", (("deployment", "m/1"),))] == 4
    assert seen[("switchyard_deployment_in_flight", (("deployment", "m/0"),))] == 2
    assert seen[("switchyard_background_queue_depth", ())] == 3
    states[0] = State("m/1", "half_open", 11, 4, 1)
    assert samples((await first.exposition()).decode())[("switchyard_breaker_state", (("deployment", "m/1"),))] == 1
    untouched = samples((await second.exposition()).decode())
    assert ("switchyard_requests_total", (("model", "m"), ("status", "200"), ("surface", "openai.chat"))) \
        not in untouched
