"""A deployment's own breaker settings over the routing's, as the config file or the admin
API gives them."""

from __future__ import annotations

from pathlib import Path

from switchyard.config import DeploymentConfig, ModelConfig, RoutingConfig
from switchyard.gateway.breaker import BreakerSettings
from switchyard.gateway.deployments import build_deployment
from switchyard.providers.registry import build_provider

MODEL = ModelConfig(name="m", provider="openai", base_url="http://127.0.0.1:9/v1", api_key="k")


async def test_a_deployment_sets_its_own_breaker_over_the_routing(tmp_path: Path) -> None:
    routing = RoutingConfig(breaker_failures=5, breaker_cooldown=30, breaker_error_rate=0.5)
    own = build_deployment(MODEL, DeploymentConfig(breaker_failures=0, breaker_cooldown=2, breaker_min_calls=4),
                           "own", routing, lambda c: build_provider(c, tmp_path))
    plain = build_deployment(MODEL, DeploymentConfig(), "plain", routing, lambda c: build_provider(c, tmp_path))
    try:
        assert own.breaker.settings == BreakerSettings(0, 2.0, 0.5, 60.0, 4)
        assert own.breaker_overrides == BreakerSettings(0, 2.0, None, None, 4)
        assert plain.breaker.settings == BreakerSettings(5, 30.0, 0.5, 60.0, 20)
        assert plain.breaker_overrides == BreakerSettings()
    finally:
        await own.provider.aclose()
        await plain.provider.aclose()


async def test_no_error_rate_anywhere_leaves_consecutive_failures_only(tmp_path: Path) -> None:
    lone = build_deployment(MODEL, DeploymentConfig(breaker_window=10), "lone", RoutingConfig(),
                            lambda c: build_provider(c, tmp_path))
    try:
        assert lone.breaker.settings == BreakerSettings(5, 30.0, None, None, None)
    finally:
        await lone.provider.aclose()
