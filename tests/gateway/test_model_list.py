"""A LiteLLM-style model_list and router_settings, with environment references."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.config import ConfigError, load_settings

LITELLM = """
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: https://east.example.com/v1
      api_key: os.environ/EAST_KEY
      rpm: 600
      tpm: 100000
      weight: 3
      order: 1
    model_info: {id: east}
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-2024-08-06
      api_base: https://${WEST_HOST}/v1
      api_key: os.environ/WEST_KEY
      max_parallel_requests: 8
      order: 2
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: os.environ/ANTHROPIC_KEY
router_settings:
  num_retries: 2
  allowed_fails: 3
  cooldown_time: 15
  routing_strategy: simple-shuffle
  fallbacks: [{gpt-4o: [claude]}]
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAST_KEY", "sk-east-secret")
    monkeypatch.setenv("WEST_KEY", "sk-west-secret")
    monkeypatch.setenv("WEST_HOST", "west.example.com")
    monkeypatch.setenv("ANTHROPIC_KEY", "sk-ant-secret")


def test_model_list_becomes_models_with_deployments(tmp_path: Path, env: None) -> None:
    settings = _load(tmp_path, LITELLM)
    gpt, claude = settings.models  # type: ignore[attr-defined]
    assert (gpt.name, gpt.provider, gpt.fallbacks) == ("gpt-4o", "openai", ["claude"])
    east, west = gpt.deployments
    assert (east.id, east.model, east.base_url, east.api_key) == (
        "east", "gpt-4o", "https://east.example.com/v1", "sk-east-secret")
    assert (east.rpm, east.tpm, east.weight, east.priority) == (600, 100000, 3, 1)
    assert (west.id, west.model, west.base_url, west.api_key, west.max_concurrency, west.priority) == (
        None, "gpt-4o-2024-08-06", "https://west.example.com/v1", "sk-west-secret", 8, 2)
    assert (claude.provider, claude.deployments[0].model, claude.deployments[0].api_key) == (
        "anthropic", "claude-sonnet-4-5", "sk-ant-secret")
    routing = settings.routing  # type: ignore[attr-defined]
    assert (routing.max_attempts, routing.breaker_failures, routing.breaker_cooldown) == (3, 4, 15.0)


def test_switchyard_models_take_environment_references_too(tmp_path: Path, env: None) -> None:
    settings = _load(tmp_path, """
models:
  - name: mine
    provider: openai
    api_key: os.environ/EAST_KEY
    deployments:
      - {base_url: "http://a.example/v1", weight: 2}
      - {base_url: "http://b.example/v1", api_key: "${WEST_KEY}", priority: 1}
    fallbacks: [other]
routing: {max_attempts: 5, breaker_cooldown: 3}
""")
    model = settings.models[0]  # type: ignore[attr-defined]
    assert model.api_key == "sk-east-secret" and model.deployments[1].api_key == "sk-west-secret"
    assert settings.routing.max_attempts == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "names"), [
    ("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, api_key: os.environ/NOPE_UNSET}\n",
     ["model_list[0].litellm_params.api_key", "NOPE_UNSET"]),
    ("model_list:\n  - model_name: x\n    litellm_params: {model: bedrock/x}\n", ["bedrock", "model_list[0]"]),
    ("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, vertex_project: p}\n",
     ["vertex_project"]),
    ("model_list:\n  - litellm_params: {model: openai/x}\n", ["model_list[0].model_name"]),
    ("router_settings: {fallbacks: {a: b}}\n", ["router_settings.fallbacks"]),
    ("router_settings: {redis_host: x}\n", ["router_settings.redis_host"]),
    ("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, cooldown_time: soon}\n",
     ["model_list[0].litellm_params.cooldown_time"]),
    ("model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, cooldown_time: -1}\n",
     ["model_list[0].litellm_params.cooldown_time"]),
    ("router_settings: {cooldown_time: true}\n", ["router_settings.cooldown_time"]),
])
def test_bad_model_list_names_the_field(tmp_path: Path, text: str, names: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    for name in names:
        assert name in str(caught.value)


def test_same_name_in_models_and_model_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'x' is also declared"):
        _load(tmp_path, "models: [{name: x, provider: openai}]\n"
                        "model_list: [{model_name: x, litellm_params: {model: openai/x}}]\n")


def test_a_deployment_id_used_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="deployment id 'same' is used twice"):
        _load(tmp_path, "models:\n"
                        "  - {name: a, provider: openai, deployments: [{id: same}]}\n"
                        "  - {name: b, provider: openai, deployments: [{id: same}]}\n")


def test_a_deployments_own_cooldown_time_is_its_breaker_cooldown(tmp_path: Path) -> None:
    """LiteLLM reads ``cooldown_time`` in a deployment's litellm_params before the router's;
    0 means that deployment is never cooled down."""
    settings = _load(tmp_path, """
model_list:
  - model_name: m
    litellm_params: {model: openai/a, api_base: "http://a.example/v1", cooldown_time: 2.5}
  - model_name: m
    litellm_params: {model: openai/b, api_base: "http://b.example/v1", cooldown_time: 0}
  - model_name: m
    litellm_params: {model: openai/c, api_base: "http://c.example/v1"}
router_settings: {cooldown_time: 0, allowed_fails: 2}
""")
    a, b, c = settings.models[0].deployments  # type: ignore[attr-defined]
    assert (a.breaker_cooldown, a.breaker_failures) == (2.5, None)
    assert (b.breaker_cooldown, b.breaker_failures) == (None, 0)
    assert (c.breaker_cooldown, c.breaker_failures) == (None, None)
    routing = settings.routing  # type: ignore[attr-defined]
    assert routing.breaker_failures == 0  # the router's cooldown_time 0 outranks allowed_fails
