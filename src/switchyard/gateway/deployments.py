"""A deployment: one upstream (provider kind, address, credentials, upstream model
name) serving a public model name, with its weight, priority and limits, its own
provider (connection pool) and its circuit breaker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.config import DeploymentConfig, ModelConfig, RoutingConfig
from switchyard.gateway.breaker import BreakerSettings, BreakerState, CircuitBreaker, ErrorRate
from switchyard.gateway.deployment_gate import DeploymentLimits
from switchyard.providers.base import Provider

Source = Literal["config", "api"]
ProviderFactory = Callable[[ModelConfig], Provider]

# DeploymentConfig fields that override the model's own settings when set
OVERRIDES = ("provider", "model", "base_url", "api_key", "headers", "timeout", "connect_timeout")


@dataclass(slots=True, eq=False)
class Deployment:
    id: str
    config: ModelConfig  # the model's settings with this deployment's overrides
    provider: Provider
    breaker: CircuitBreaker
    weight: float = 1.0
    priority: int = 0
    limits: DeploymentLimits = field(default_factory=lambda: DeploymentLimits("", ""))
    source: Source = "config"
    breaker_overrides: BreakerSettings = field(default_factory=BreakerSettings)  # its own (None: the routing's)
    in_flight: int = 0
    requests: int = 0  # attempts sent, since the process started
    failures: int = 0  # attempts that failed on the upstream's side

    @property
    def model(self) -> str:
        return self.config.name

    def at_capacity(self) -> bool:
        cap = self.limits.max_concurrency
        return cap is not None and self.in_flight >= cap


@dataclass(frozen=True, slots=True)
class DeploymentState:
    """A deployment as ``/metrics`` and the admin API report it."""

    id: str
    model: str
    provider: str
    upstream_model: str
    source: Source
    breaker: BreakerState
    consecutive_failures: int
    in_flight: int
    requests: int
    failures: int


def materialise(model: ModelConfig, deployment: DeploymentConfig) -> ModelConfig:
    update: dict[str, Any] = {k: getattr(deployment, k) for k in OVERRIDES if getattr(deployment, k) is not None}
    update["deployments"] = []
    return model.model_copy(update=update)


def deployment_id(model: ModelConfig, deployment: DeploymentConfig, position: int) -> str:
    return deployment.id or f"{model.name}:{position}"


def build_deployment(model: ModelConfig, declared: DeploymentConfig, ident: str, routing: RoutingConfig,
                     factory: ProviderFactory, source: Source = "config") -> Deployment:
    config = materialise(model, declared)
    limits = DeploymentLimits(ident, model.name, declared.rpm, declared.tpm, declared.max_concurrency)
    failures = declared.breaker_failures if declared.breaker_failures is not None else routing.breaker_failures
    cooldown = declared.breaker_cooldown if declared.breaker_cooldown is not None else routing.breaker_cooldown
    breaker = CircuitBreaker(failures, cooldown, error_rate=error_rate(routing, declared))
    overrides = BreakerSettings(declared.breaker_failures, declared.breaker_cooldown, declared.breaker_error_rate,
                                declared.breaker_window, declared.breaker_min_calls)
    return Deployment(ident, config, factory(config), breaker, declared.weight, declared.priority, limits, source,
                      overrides)


def error_rate(routing: RoutingConfig, declared: DeploymentConfig) -> ErrorRate | None:
    """The deployment's error-rate breaker: its own settings, else the routing's; None when neither sets a rate."""
    threshold = declared.breaker_error_rate if declared.breaker_error_rate is not None else routing.breaker_error_rate
    if threshold is None:
        return None
    window = declared.breaker_window if declared.breaker_window is not None else routing.breaker_window
    least = declared.breaker_min_calls if declared.breaker_min_calls is not None else routing.breaker_min_calls
    return ErrorRate(threshold, window, least)


def declared_deployments(model: ModelConfig) -> list[tuple[str, DeploymentConfig]]:
    """The model's deployments as configured; a model without a list is its own one deployment."""
    if not model.deployments:
        return [(model.name, DeploymentConfig())]
    return [(deployment_id(model, d, i), d) for i, d in enumerate(model.deployments)]


def state_of(deployment: Deployment) -> DeploymentState:
    return DeploymentState(deployment.id, deployment.model, deployment.config.provider,
                           deployment.config.upstream_model, deployment.source, deployment.breaker.state,
                           deployment.breaker.consecutive_failures, deployment.in_flight,
                           deployment.requests, deployment.failures)
