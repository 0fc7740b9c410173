from __future__ import annotations

import pytest

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.gateway.router import ModelRegistry, Route


def _route(name: str, aliases: list[str] | None = None) -> Route:
    return Route(ModelConfig(name=name, provider="openai", aliases=aliases or []), provider=object())  # type: ignore[arg-type]


REGISTRY = ModelRegistry([_route("gpt", ["gpt-4*", "o3"]), _route("claude", ["claude-haiku-*"])])


@pytest.mark.parametrize(("asked", "served"), [
    ("gpt", "gpt"), ("gpt-4.1-mini", "gpt"), ("o3", "gpt"), ("claude", "claude"),
    ("claude-haiku-4-5-20251001", "claude"),
])
def test_names_and_aliases_resolve(asked: str, served: str) -> None:
    assert REGISTRY.resolve(asked).name == served


@pytest.mark.parametrize("asked", ["o3-mini", "claude-sonnet", "GPT", ""])
def test_unknown_names_are_404_naming_model(asked: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        REGISTRY.resolve(asked)
    assert caught.value.status == 404 and caught.value.param == "model"
    assert caught.value.code == "model_not_found"
