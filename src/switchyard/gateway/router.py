"""Where a request goes: public model names (and aliases) to configured backends."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.providers.base import Provider


@dataclass(slots=True)
class Route:
    config: ModelConfig
    provider: Provider

    @property
    def name(self) -> str:
        return self.config.name


class ModelRegistry:
    def __init__(self, routes: list[Route]) -> None:
        self._routes = {r.name: r for r in routes}
        self._aliases = [(a, r) for r in routes for a in r.config.aliases]

    def routes(self) -> list[Route]:
        return list(self._routes.values())

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
