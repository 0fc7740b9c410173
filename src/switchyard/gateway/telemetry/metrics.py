"""The Prometheus metrics of one app, in its own registry (nothing module-global)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from switchyard.core.errors import SwitchyardError
from switchyard.core.usage import Usage

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}
TOKEN_KINDS = ("input", "output", "cached_input", "reasoning")

Refresh = Callable[[], Awaitable[None]]


class DeploymentView(Protocol):
    """What the router reports of one deployment (``gateway/deployments.py:DeploymentState``)."""

    @property
    def id(self) -> str: ...
    @property
    def breaker(self) -> str: ...  # "closed" | "half_open" | "open"
    @property
    def requests(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def in_flight(self) -> int: ...


DeploymentRead = Callable[[], Iterable[DeploymentView]]


class _Deployments(Collector):
    """The router's own counters per deployment, read at each scrape (failover attempts
    included, which the per-call metrics cannot see)."""

    def __init__(self) -> None:
        self.read: DeploymentRead | None = None

    def collect(self) -> Iterator[Metric]:
        breaker = GaugeMetricFamily("switchyard_breaker_state",
                                    "Circuit breaker per deployment: 0 closed, 1 half-open, 2 open.",
                                    labels=["deployment"])
        attempts = CounterMetricFamily("switchyard_deployment_attempts", "Attempts sent to a deployment.",
                                       labels=["deployment"])
        failures = CounterMetricFamily("switchyard_deployment_failures",
                                       "Attempts a deployment failed (upstream errors by deployment).",
                                       labels=["deployment"])
        in_flight = GaugeMetricFamily("switchyard_deployment_in_flight", "Attempts on a deployment now.",
                                      labels=["deployment"])
        for state in sorted(self.read() if self.read is not None else [], key=lambda d: d.id):
            breaker.add_metric([state.id], BREAKER_STATES.get(str(state.breaker), 2))
            attempts.add_metric([state.id], state.requests)
            failures.add_metric([state.id], state.failures)
            in_flight.add_metric([state.id], state.in_flight)
        yield from (breaker, attempts, failures, in_flight)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("switchyard_requests", "API requests answered.",
                                ["surface", "model", "status"], registry=r)
        self.latency = Histogram("switchyard_request_duration_seconds", "From request to the last byte sent.",
                                 ["surface", "model"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("switchyard_requests_in_flight", "API requests being served.", registry=r)
        self.ttft = Histogram("switchyard_time_to_first_token_seconds", "From a model turn's start to its first event.",
                              ["model"], buckets=TTFT_BUCKETS, registry=r)
        self.tokens = Counter("switchyard_tokens", "Tokens by kind (input counts cached ones too).",
                              ["model", "kind"], registry=r)
        self.cost = Counter("switchyard_cost_usd", "Cost of calls in US dollars.", ["model"], registry=r)
        self.upstream_errors = Counter("switchyard_upstream_errors",
                                       "Failed attempts by deployment (failover included).",
                                       ["deployment", "kind"], registry=r)
        self.rejections = Counter("switchyard_rate_limit_rejections", "Calls refused by a rate limit.",
                                  ["level", "reason"], registry=r)
        self.queue_depth = Gauge("switchyard_background_queue_depth", "Background responses waiting to run.",
                                 registry=r)
        self._deployments = _Deployments()
        r.register(self._deployments)
        self._refreshers: list[Refresh] = []
        # labelled children of the hot-path metrics, looked up once (``labels()`` locks and validates)
        self._per_request: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._per_model: dict[str, tuple[Any, Any, Any, Any, Any]] = {}

    def watch_deployments(self, read: DeploymentRead) -> None:
        """The router's read of its deployments (``ModelRegistry.deployment_states``), called at each scrape."""
        self._deployments.read = read

    def add_refresher(self, refresh: Refresh) -> None:
        """An async update (e.g. a count from the store) run before each scrape."""
        self._refreshers.append(refresh)

    def observe_request(self, surface: str, model: str, status: int, seconds: float) -> None:
        children = self._per_request.get((surface, model, status))
        if children is None:
            children = (self.requests.labels(surface, model, str(status)), self.latency.labels(surface, model))
            self._per_request[(surface, model, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def _model(self, model: str) -> tuple[Any, Any, Any, Any, Any]:
        children = self._per_model.get(model)
        if children is None:
            tokens = [self.tokens.labels(model, kind) for kind in TOKEN_KINDS]
            children = (self.ttft.labels(model), tokens[0], tokens[1], tokens[2], tokens[3])
            self._per_model[model] = children
        return children

    def observe_ttft(self, model: str, seconds: float) -> None:
        self._model(model)[0].observe(seconds)

    def observe_tokens(self, model: str, usage: Usage) -> None:
        _, inputs, outputs, cached, reasoning = self._model(model)
        for child, count in ((inputs, usage.input_tokens), (outputs, usage.output_tokens),
                             (cached, usage.cached_input_tokens), (reasoning, usage.reasoning_tokens)):
            if count:
                child.inc(count)

    def observe_cost(self, model: str, usd: Decimal | float) -> None:
        """Metering reports each settled call's cost here."""
        if usd > 0:
            self.cost.labels(model).inc(float(usd))

    def observe_upstream_error(self, deployment: str, kind: str) -> None:
        self.upstream_errors.labels(deployment, kind).inc()

    def attempt_failed(self, deployment_id: str, model: str, error: SwitchyardError, retried: bool) -> None:
        """The router's ``AttemptObserver``: every failed attempt, failover included."""
        self.upstream_errors.labels(deployment_id, error.kind.value).inc()

    def observe_rejection(self, level: str, reason: str) -> None:
        self.rejections.labels(level, reason).inc()

    async def exposition(self) -> bytes:
        for refresh in self._refreshers:
            await refresh()
        return generate_latest(self.registry)
