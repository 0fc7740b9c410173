"""Where a request goes: public model names (and aliases) to routes. A route's
provider is a ``RoutedProvider`` over the model's deployments (``routed.py``), so
callers see one ``Provider`` per model whatever the number of upstreams behind it."""

from __future__ import annotations

import fnmatch
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

from switchyard.config import ModelConfig, RoutingConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.deployment_gate import AllowAll, AttemptObserver, DeploymentGate
from switchyard.gateway.deployments import (
    Deployment,
    DeploymentState,
    ProviderFactory,
    build_deployment,
    declared_deployments,
    state_of,
)
from switchyard.gateway.routed import RoutedProvider
from switchyard.providers.base import Provider

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Route:
    config: ModelConfig
    provider: Provider

    @property
    def name(self) -> str:
        return self.config.name


class ModelRegistry:
    def __init__(self, routes: list[Route]) -> None:
        self._routes: dict[str, Route] = {}
        self._aliases: list[tuple[str, Route]] = []
        for route in routes:
            self.put(route)

    def routes(self) -> list[Route]:
        return list(self._routes.values())

    def put(self, route: Route) -> None:
        """Adds a route, or replaces the one of the same name."""
        self._routes[route.name] = route
        self._aliases = [(a, r) for r in self._routes.values() for a in r.config.aliases]

    def remove(self, name: str) -> Route | None:
        route = self._routes.pop(name, None)
        self._aliases = [(a, r) for r in self._routes.values() for a in r.config.aliases]
        return route

    def exact(self, name: str) -> Route | None:
        return self._routes.get(name)

    def find(self, name: str) -> Route | None:
        route = self._routes.get(name)
        if route is not None:
            return route
        for pattern, candidate in self._aliases:
            if fnmatch.fnmatchcase(name, pattern):
                return candidate
        return None

    def resolve(self, name: str) -> Route:
        route = self.find(name)
        if route is None:
            raise SwitchyardError(
                ErrorKind.NOT_FOUND,
                f"The model '{name}' does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return route

    def routed(self, name: str) -> RoutedProvider | None:
        route = self.find(name)
        return route.provider if route is not None and isinstance(route.provider, RoutedProvider) else None

    def deployment(self, deployment_id: str) -> Deployment | None:
        return next((d for d in self.all_deployments() if d.id == deployment_id), None)

    def all_deployments(self) -> list[Deployment]:
        return [d for r in self._routes.values() if isinstance(r.provider, RoutedProvider)
                for d in r.provider.deployments]

    def deployment_states(self) -> list[DeploymentState]:
        """Every deployment's breaker state and counters, for ``/metrics`` and the admin API."""
        return [state_of(d) for d in self.all_deployments()]

    def breaker_states(self) -> dict[str, str]:
        """Deployment id -> ``closed`` / ``half_open`` / ``open``."""
        return {d.id: d.breaker.state.value for d in self.all_deployments()}


@dataclass(slots=True)
class RouteFactory:
    """Makes deployments and routed models with one process's routing settings."""

    routing: RoutingConfig
    providers: ProviderFactory
    gate: DeploymentGate
    rng: random.Random
    observer: AttemptObserver | None = None

    def routed(self, registry: ModelRegistry, model: ModelConfig, deployments: Sequence[Deployment]) -> Route:
        provider = RoutedProvider(model.name, deployments, self.routing, self.gate, self.rng,
                                  fallbacks=model.fallbacks, lookup=registry.routed, observer=self.observer)
        return Route(model, provider)

    def declared(self, model: ModelConfig) -> list[Deployment]:
        return [build_deployment(model, d, ident, self.routing, self.providers)
                for ident, d in declared_deployments(model)]


def build_registry(models: Sequence[ModelConfig], routing: RoutingConfig, providers: ProviderFactory,
                   gate: DeploymentGate | None = None, observer: AttemptObserver | None = None,
                   ) -> tuple[ModelRegistry, RouteFactory]:
    """The registry of chat models; ``gate`` (per-deployment rate limits) and ``observer``
    (metrics) are the hooks ``deployment_gate.py`` describes."""
    factory = RouteFactory(routing, providers, gate or AllowAll(), random.Random(routing.seed), observer)
    registry = ModelRegistry([])
    for model in models:
        registry.put(factory.routed(registry, model, factory.declared(model)))
    for model in models:
        for name in model.fallbacks:
            if registry.find(name) is None:
                log.warning("model %s: fallback '%s' is not a chat model here (yet); it is skipped until it is",
                            model.name, name)
    return registry, factory
