"""The routed provider over real upstream providers talking to loopback fakes: the
concurrency cap, the deployment gate (the hook per-deployment rate limits plug into)
and the record of which deployment answered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchyard.config import DeploymentConfig, ModelConfig, RoutingConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import Event, TextDelta
from switchyard.core.items import Message, TextPart
from switchyard.core.request import Request
from switchyard.core.usage import Usage
from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.deployment_gate import DeploymentLimits, GatePass, GateRefusal
from switchyard.gateway.router import ModelRegistry, build_registry
from switchyard.providers.registry import build_provider
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    a, b = FakeUpstream("a"), FakeUpstream("b")
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(autouse=True)
def _reset(upstreams: tuple[FakeUpstream, FakeUpstream]) -> None:
    for fake in upstreams:
        fake.reset()


class RecordingGate:
    """A gate as the rate limiter would be: refuses the deployments it is told to and
    records what it admitted and how each pass was settled."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.admitted: list[tuple[DeploymentLimits, int]] = []
        self.settled: list[Usage | None] = []

    @property
    def wants_estimate(self) -> bool:
        return True

    async def admit(self, limits: DeploymentLimits, estimated_tokens: int) -> GatePass | GateRefusal:
        if limits.deployment_id in self.refuse:
            return GateRefusal(retry_after=2.5, reason="requests per minute")
        self.admitted.append((limits, estimated_tokens))
        return self

    async def settle(self, usage: Usage | None) -> None:
        self.settled.append(usage)


class RecordingObserver:
    def __init__(self) -> None:
        self.failures: list[tuple[str, str, int, bool]] = []

    def attempt_failed(self, deployment_id: str, model: str, error: SwitchyardError, retried: bool) -> None:
        self.failures.append((deployment_id, model, error.status, retried))


def _registry(tmp_path: Path, upstreams: tuple[FakeUpstream, FakeUpstream], gate: Any = None,
              observer: Any = None, **first: Any) -> ModelRegistry:
    a, b = upstreams
    model = ModelConfig(name="m", provider="openai", model="up", timeout=10, deployments=[
        DeploymentConfig(id="a", base_url=a.url + "/v1", rpm=10, tpm=1000, **first),
        DeploymentConfig(id="b", base_url=b.url + "/v1", priority=1),
    ])
    registry, _ = build_registry([model], RoutingConfig(backoff_initial=0), lambda c: build_provider(c, tmp_path),
                                 gate=gate, observer=observer)
    return registry


def _request(stream: bool = True) -> Request:
    return Request(model="m", items=[Message("user", [TextPart("hello there")])], max_output_tokens=50,
                   stream=stream)


async def _text(registry: ModelRegistry) -> str:
    events: list[Event] = [e async for e in registry.resolve("m").provider.generate(_request())]
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_a_full_deployment_is_skipped(tmp_path, upstreams) -> None:
    a, b = upstreams
    registry = _registry(tmp_path, upstreams, max_concurrency=1)
    a.script(ow.stream(["slow ", "a"], delay=0.3))
    b.script(ow.stream(["b"]))
    slow = asyncio.create_task(_text(registry))
    while not a.received:
        await asyncio.sleep(0.01)
    assert await _text(registry) == "b"
    assert await slow == "slow a"
    await registry.resolve("m").provider.aclose()


async def test_gate_refusal_moves_on_and_passes_are_settled_with_usage(tmp_path, upstreams) -> None:
    a, b = upstreams
    gate = RecordingGate(refuse={"a"})
    registry = _registry(tmp_path, upstreams, gate=gate)
    b.script(ow.stream(["from b"], use=ow.usage(prompt=11, completion=7)))
    with entered(CallScope(Principal(owner_id="p"), surface="test")) as scope:
        assert await _text(registry) == "from b"
    assert scope.deployment_id == "b" and a.received == []
    ((limits, estimate),) = gate.admitted
    assert limits == DeploymentLimits("b", "m", None, None, None)
    assert estimate > 50  # the prompt's estimate plus max_output_tokens
    assert len(gate.settled) == 1 and gate.settled[0] is not None and gate.settled[0].output_tokens == 7
    await registry.resolve("m").provider.aclose()


async def test_every_deployment_refused_is_a_429_with_retry_after(tmp_path, upstreams) -> None:
    gate = RecordingGate(refuse={"a", "b"})
    registry = _registry(tmp_path, upstreams, gate=gate)
    with pytest.raises(SwitchyardError) as caught:
        await _text(registry)
    assert caught.value.status == 429 and caught.value.retry_after == "3"
    assert upstreams[0].received == [] and upstreams[1].received == []
    await registry.resolve("m").provider.aclose()


async def test_failed_attempt_is_settled_without_usage(tmp_path, upstreams) -> None:
    a, b = upstreams
    gate, observer = RecordingGate(refuse=set()), RecordingObserver()
    registry = _registry(tmp_path, upstreams, gate=gate, observer=observer)
    a.script(ow.error(500, "boom", "server_error"))
    b.script(ow.stream(["ok"]))
    assert await _text(registry) == "ok"
    assert [limits.deployment_id for limits, _ in gate.admitted] == ["a", "b"]
    assert gate.settled[0] is None and gate.settled[1] is not None
    states = {s.id: s for s in registry.deployment_states()}
    assert (states["a"].requests, states["a"].failures, states["a"].consecutive_failures) == (1, 1, 1)
    assert (states["b"].requests, states["b"].failures, states["b"].breaker) == (1, 0, "closed")
    assert observer.failures == [("a", "m", 502, True)]
    assert registry.breaker_states() == {"a": "closed", "b": "closed"}
    a.script(ow.stream(["one ", "two"], drop_after=2))  # role and one content chunk, then the connection drops
    assert await _text(registry) == "one "
    assert observer.failures[-1][0] == "a" and observer.failures[-1][3] is False  # after content: not retried
    assert len(b.received) == 1
    await registry.resolve("m").provider.aclose()


async def test_retry_after_keeps_a_deployment_out_then_all_resting_is_a_503(tmp_path, upstreams) -> None:
    a, b = upstreams
    model = ModelConfig(name="m", provider="openai", model="up", timeout=10, deployments=[
        DeploymentConfig(id="a", base_url=a.url + "/v1"), DeploymentConfig(id="b", base_url=b.url + "/v1", priority=1)])
    routing = RoutingConfig(backoff_initial=0, retry_after_max=120, breaker_failures=10)
    registry, _ = build_registry([model], routing, lambda c: build_provider(c, tmp_path))
    a.script(ow.error(429, "slow down", "rate_limit_error", headers={"retry-after": "30"}))
    b.script(ow.stream(["b once"]), ow.stream(["b twice"]))
    assert await _text(registry) == "b once"
    assert await _text(registry) == "b twice"  # a is resting: not asked again
    assert len(a.received) == 1 and len(b.received) == 2
    b.script(ow.error(503, "overloaded", "server_error", headers={"retry-after": "40"}))
    with pytest.raises(SwitchyardError) as caught:
        await _text(registry)  # b fails, a still rests: b's failure is the answer
    assert caught.value.status == 503 and "overloaded" in caught.value.message
    with pytest.raises(SwitchyardError) as caught:
        await _text(registry)  # both resting: nothing is sent
    assert caught.value.code == "no_healthy_deployment" and caught.value.status == 503
    assert 1 <= int(caught.value.retry_after or 0) <= 30
    assert len(a.received) == 1 and len(b.received) == 3
    await registry.resolve("m").provider.aclose()


def _chained(tmp_path: Path, upstreams: tuple[FakeUpstream, FakeUpstream], depth: int) -> ModelRegistry:
    """m1 -> [m2], m2 -> [m3, m1] (a cycle back), m3 -> [m1]: one deployment each, on a, b, a."""
    a, b = upstreams
    models = [ModelConfig(name=name, provider="openai", model=f"up-{name}", timeout=10,
                          base_url=fake.url + "/v1", fallbacks=fallbacks)
              for name, fake, fallbacks in (("m1", a, ["m2"]), ("m2", b, ["m3", "m1"]), ("m3", a, ["m1"]))]
    routing = RoutingConfig(backoff_initial=0, max_attempts=10, fallback_depth=depth)
    registry, _ = build_registry(models, routing, lambda c: build_provider(c, tmp_path))
    return registry


async def _answer(registry: ModelRegistry, model: str) -> str:
    request = Request(model=model, items=[Message("user", [TextPart("hi")])], stream=True)
    events = [e async for e in registry.resolve(model).provider.generate(request)]
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize(("depth", "answered"), [(1, False), (2, True)])
async def test_a_fallbacks_own_fallbacks_are_followed_to_the_configured_depth(tmp_path, upstreams, depth,
                                                                               answered) -> None:
    a, b = upstreams
    registry = _chained(tmp_path, upstreams, depth)
    a.script(ow.error(502, "m1 down", "server_error"), ow.stream(["from m3"]))
    b.script(ow.error(503, "m2 down", "server_error"))
    if answered:
        assert await _answer(registry, "m1") == "from m3"
    else:
        with pytest.raises(SwitchyardError) as caught:
            await _answer(registry, "m1")
        assert caught.value.status == 503 and "m2 down" in caught.value.message
    assert [r.body["model"] for r in b.received] == ["up-m2"]
    assert [r.body["model"] for r in a.received] == (["up-m1", "up-m3"] if answered else ["up-m1"])
    for route in registry.routes():
        await route.provider.aclose()


async def test_a_fallback_cycle_tries_each_model_once(tmp_path, upstreams) -> None:
    a, b = upstreams
    registry = _chained(tmp_path, upstreams, depth=10)
    a.script(ow.error(500, "a down", "server_error"), ow.error(500, "a down again", "server_error"))
    b.script(ow.error(500, "b down", "server_error"))
    with pytest.raises(SwitchyardError) as caught:
        await _answer(registry, "m2")  # m2 -> m3 -> m1 -> (m1's fallback m2: tried already)
    assert "a down again" in caught.value.message
    assert len(a.received) == 2 and len(b.received) == 1
    assert [r.body["model"] for r in a.received] == ["up-m3", "up-m1"]
    for route in registry.routes():
        await route.provider.aclose()
