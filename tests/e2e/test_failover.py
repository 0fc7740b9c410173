"""Failover across deployments of one model, through the official SDKs: scripted
upstreams that answer 429 with Retry-After, 500, hang, refuse connections, and break
a stream before and after its first content; fallback models; the circuit breaker
opening and closing (half-open probe). Which upstream served a request is told by
its content and by what each fake upstream received."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.anthropic_wire import refuse_as_anthropic
from tests.fakes.loopback import free_port
from tests.fakes.upstream import FakeUpstream, Reply, running
from tests.server import MASTER_KEY, LiveServer

COOLDOWN = 1.0
NAMES = ("alpha", "beta", "gamma", "anth_a", "anth_b")
USER = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeUpstream]]:
    with running(FakeUpstream(n, check=refuse_as_anthropic if n.startswith("anth") else None)
                 for n in NAMES) as started:
        yield started


@pytest.fixture(autouse=True)
def _reset(fakes: dict[str, FakeUpstream]) -> None:
    for fake in fakes.values():
        fake.reset()


def _oai(fake: FakeUpstream | None, ident: str, priority: int, **extra: Any) -> dict[str, Any]:
    url = fake.url if fake is not None else f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return {"id": ident, "base_url": url + "/v1", "api_key": f"key-{ident}", "priority": priority, **extra}


def _anth(fake: FakeUpstream, ident: str, priority: int) -> dict[str, Any]:
    return {"id": ident, "base_url": fake.url, "api_key": f"key-{ident}", "priority": priority}


def _pair(name: str, fakes: dict[str, FakeUpstream], **first: Any) -> dict[str, Any]:
    """A model on alpha (tried first) and beta."""
    return {"name": name, "provider": "openai", "model": "gpt-up", "timeout": 5,
            "deployments": [_oai(fakes["alpha"], f"{name}/alpha", 0, **first), _oai(fakes["beta"], f"{name}/beta", 1)]}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fakes: dict[str, FakeUpstream]) -> Iterator[LiveServer]:
    models = [
        _pair("fo-429", fakes), _pair("fo-pre", fakes), _pair("fo-post", fakes), _pair("fo-400", fakes),
        _pair("fo-all", fakes),
        _pair("fo-breaker", fakes), _pair("fo-hang", fakes, timeout=0.5),
        {"name": "fo-refused", "provider": "openai", "model": "gpt-up", "timeout": 5,
         "deployments": [_oai(None, "refused/closed", 0), _oai(fakes["beta"], "refused/beta", 1)]},
        *[{"name": name, "provider": "anthropic", "model": "claude-up", "timeout": 5,
           "deployments": [_anth(fakes["anth_a"], f"{name}/a", 0), _anth(fakes["anth_b"], f"{name}/b", 1)]}
          for name in ("fo-claude-500", "fo-claude-pre", "fo-claude-post")],
        {"name": "fo-lonely", "provider": "openai", "model": "gpt-up", "base_url": fakes["alpha"].url + "/v1",
         "fallbacks": ["fo-backup"]},
        {"name": "fo-backup", "provider": "openai", "model": "gpt-backup", "base_url": fakes["beta"].url + "/v1"},
        # the error-rate breaker on alpha alone: half of at least 4 calls in a minute
        _pair("fo-rate", fakes, breaker_error_rate=0.5, breaker_min_calls=4, breaker_window=60),
        # fallbacks of fallbacks, with a cycle back to the first
        {"name": "fo-deep", "provider": "openai", "model": "gpt-deep", "base_url": fakes["alpha"].url + "/v1",
         "fallbacks": ["fo-deep-2"]},
        {"name": "fo-deep-2", "provider": "openai", "model": "gpt-deep-2", "base_url": fakes["beta"].url + "/v1",
         "fallbacks": ["fo-deep", "fo-deep-3"]},
        {"name": "fo-deep-3", "provider": "openai", "model": "gpt-deep-3", "base_url": fakes["gamma"].url + "/v1",
         "fallbacks": ["fo-deep-2"]},
    ]
    routing = {"max_attempts": 3, "backoff_initial": 0.01, "backoff_max": 0.05, "retry_after_max": 0.5,
               "breaker_failures": 2, "breaker_cooldown": COOLDOWN, "seed": 7}
    server = LiveServer(Path(tmp_path_factory.mktemp("failover")), models, routing=routing)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def oai(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                         _strict_response_validation=True)


@pytest.fixture
def claude(live: LiveServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=live.url, api_key=MASTER_KEY, max_retries=0, timeout=60,
                               _strict_response_validation=True)


def _streamed_text(oai: openai.OpenAI, model: str) -> str:
    chunks = oai.chat.completions.create(model=model, messages=USER, stream=True)  # type: ignore[call-overload]
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def _breaker(live: LiveServer, deployment_id: str) -> str:
    answer = httpx.get(f"{live.url}/v1/organization/deployments/{deployment_id}",
                       headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["breaker_state"])


def test_429_with_retry_after_goes_to_the_next_deployment(oai, fakes) -> None:
    fakes["alpha"].script(ow.error(429, "slow down", "rate_limit_error", headers={"retry-after": "1"}))
    fakes["beta"].script(ow.completion("from beta"))
    reply = oai.chat.completions.create(model="fo-429", messages=USER)
    assert reply.choices[0].message.content == "from beta"
    assert len(fakes["alpha"].received) == 1 and len(fakes["beta"].received) == 1
    assert fakes["beta"].last.headers["authorization"] == "Bearer key-fo-429/beta"
    assert fakes["beta"].last.body["model"] == "gpt-up"


def test_500_on_anthropic_goes_to_the_next_deployment(claude, fakes) -> None:
    fakes["anth_a"].script(aw.error(500, "api_error", "internal"))
    fakes["anth_b"].script(aw.message([aw.text("from b")]))
    message = claude.messages.create(model="fo-claude-500", max_tokens=20, messages=USER)
    assert message.content[0].text == "from b"  # type: ignore[union-attr]
    assert len(fakes["anth_a"].received) == 1 and len(fakes["anth_b"].received) == 1


def test_hanging_upstream_times_out_and_the_next_answers(oai, fakes) -> None:
    fakes["alpha"].script(Reply(ow.completion("too late").json, delay=20))
    fakes["beta"].script(ow.stream(["in ", "time"]))
    assert _streamed_text(oai, "fo-hang") == "in time"
    assert len(fakes["alpha"].received) == 1 and len(fakes["beta"].received) == 1


def test_refused_connection_goes_to_the_next_deployment(oai, fakes) -> None:
    fakes["beta"].script(ow.stream(["still ", "here"]))
    assert _streamed_text(oai, "fo-refused") == "still here"
    assert len(fakes["beta"].received) == 1


def test_stream_broken_before_content_is_retried_elsewhere(oai, fakes) -> None:
    fakes["alpha"].script(ow.stream(["never seen"], drop_after=1))  # the role chunk, then the connection drops
    fakes["beta"].script(ow.stream(["whole ", "answer"]))
    assert _streamed_text(oai, "fo-pre") == "whole answer"
    assert len(fakes["alpha"].received) == 1 and len(fakes["beta"].received) == 1


def test_anthropic_error_event_before_content_is_retried_elsewhere(claude, fakes) -> None:
    fakes["anth_a"].script(aw.stream([aw.text("never seen")], error_after=1))  # message_start, then overloaded
    fakes["anth_b"].script(aw.stream([aw.text("from b")]))
    with claude.messages.stream(model="fo-claude-pre", max_tokens=20, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "from b" and final.stop_reason == "end_turn"
    assert len(fakes["anth_a"].received) == 1 and len(fakes["anth_b"].received) == 1


def test_stream_broken_after_content_ends_with_an_error_and_is_not_retried(oai, fakes) -> None:
    fakes["alpha"].script(ow.stream(["one ", "two ", "three"], drop_after=3))
    fakes["beta"].script(ow.stream(["must not be used"]))
    seen: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in oai.chat.completions.create(model="fo-post", messages=USER, stream=True):
            if chunk.choices:
                seen.append(chunk.choices[0].delta.content or "")
    assert "".join(seen) == "one two "
    assert fakes["beta"].received == []


def test_anthropic_error_after_content_is_an_error_event(claude, fakes) -> None:
    fakes["anth_a"].script(aw.stream([aw.text("Hello there")], error_after=4))
    fakes["anth_b"].script(aw.stream([aw.text("must not be used")]))
    seen: list[str] = []
    with (pytest.raises(anthropic.APIStatusError) as caught,
          claude.messages.stream(model="fo-claude-post", max_tokens=20, messages=USER) as stream):
        seen.extend(stream.text_stream)
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert seen and "must not" not in "".join(seen)
    assert fakes["anth_b"].received == []


def test_client_errors_are_not_retried(oai, fakes) -> None:
    fakes["alpha"].script(ow.error(400, "bad parameter 'foo'"))
    fakes["beta"].script(ow.completion("must not be used"))
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="fo-400", messages=USER)
    assert "bad parameter 'foo'" in caught.value.message
    assert fakes["beta"].received == []


def test_every_deployment_failing_gives_the_last_error(oai, fakes) -> None:
    fakes["alpha"].script(ow.error(500, "alpha broke", "server_error"))
    fakes["beta"].script(ow.error(503, "beta overloaded", "server_error"))
    with pytest.raises(openai.APIStatusError) as caught:
        oai.chat.completions.create(model="fo-all", messages=USER)
    assert caught.value.status_code == 503 and "beta overloaded" in caught.value.message
    assert len(fakes["alpha"].received) == 1 and len(fakes["beta"].received) == 1


def test_fallback_model_answers_when_the_model_failed(oai, fakes) -> None:
    fakes["alpha"].script(ow.error(502, "bad gateway", "server_error"))
    fakes["beta"].script(ow.completion("from the fallback"))
    reply = oai.chat.completions.create(model="fo-lonely", messages=USER)
    assert reply.choices[0].message.content == "from the fallback"
    assert fakes["beta"].last.body["model"] == "gpt-backup"


def test_breaker_opens_then_a_half_open_probe_closes_it(live, oai, fakes) -> None:
    alpha, beta = fakes["alpha"], fakes["beta"]
    # two failures in a row, one whole answer and one stream broken before content: the breaker opens
    alpha.script(ow.error(500, "down", "server_error"), ow.stream(["x"], drop_after=1))
    beta.script(ow.completion("beta 1"), ow.stream(["beta 2"]))
    assert oai.chat.completions.create(model="fo-breaker", messages=USER).choices[0].message.content == "beta 1"
    assert _streamed_text(oai, "fo-breaker") == "beta 2"
    assert _breaker(live, "fo-breaker/alpha") == "open"
    # while open, alpha gets nothing (it has nothing scripted: a request would fail)
    beta.script(ow.completion("beta 3"), ow.stream(["beta 4"]))
    assert oai.chat.completions.create(model="fo-breaker", messages=USER).choices[0].message.content == "beta 3"
    assert _streamed_text(oai, "fo-breaker") == "beta 4"
    assert len(alpha.received) == 2 and len(beta.received) == 4
    # after the cooldown, one probe goes to alpha; its success closes the breaker
    time.sleep(COOLDOWN + 0.2)
    assert _breaker(live, "fo-breaker/alpha") == "half_open"
    alpha.script(ow.stream(["alpha ", "is back"]), ow.completion("alpha again"))
    assert _streamed_text(oai, "fo-breaker") == "alpha is back"
    assert _breaker(live, "fo-breaker/alpha") == "closed"
    assert oai.chat.completions.create(model="fo-breaker", messages=USER).choices[0].message.content == "alpha again"
    assert len(alpha.received) == 4 and len(beta.received) == 4


def test_the_error_rate_opens_the_breaker_without_consecutive_failures(live, oai, fakes) -> None:
    alpha, beta = fakes["alpha"], fakes["beta"]
    # alpha fails every other call: never two in a row (breaker_failures is 2), but half of them
    alpha.script(ow.error(500, "down", "server_error"), ow.completion("alpha 1"),
                 ow.error(500, "down", "server_error"), ow.completion("alpha 2"))
    beta.script(ow.completion("beta 1"), ow.completion("beta 2"))
    answers = [oai.chat.completions.create(model="fo-rate", messages=USER).choices[0].message.content
               for _ in range(2)]
    assert answers == ["beta 1", "alpha 1"] and _breaker(live, "fo-rate/alpha") == "closed"
    # the third call fails: 2 of 3 calls, fewer than min_calls (4)
    assert oai.chat.completions.create(model="fo-rate", messages=USER).choices[0].message.content == "beta 2"
    assert _breaker(live, "fo-rate/alpha") == "closed"
    assert oai.chat.completions.create(model="fo-rate", messages=USER).choices[0].message.content == "alpha 2"
    alpha.script(ow.error(500, "down", "server_error"))
    beta.script(ow.completion("beta 3"), ow.completion("beta 4"))
    assert oai.chat.completions.create(model="fo-rate", messages=USER).choices[0].message.content == "beta 3"
    assert _breaker(live, "fo-rate/alpha") == "open"  # 3 of 5 calls failed
    assert oai.chat.completions.create(model="fo-rate", messages=USER).choices[0].message.content == "beta 4"
    assert len(alpha.received) == 5  # the open breaker kept the last call away from alpha
    time.sleep(COOLDOWN + 0.2)
    assert _breaker(live, "fo-rate/alpha") == "half_open"
    alpha.script(ow.completion("alpha probe"))
    assert oai.chat.completions.create(model="fo-rate", messages=USER).choices[0].message.content == "alpha probe"
    assert _breaker(live, "fo-rate/alpha") == "closed"


def test_a_fallbacks_own_fallbacks_answer_and_a_cycle_ends(oai, fakes) -> None:
    fakes["alpha"].script(ow.error(502, "deep down", "server_error"))
    fakes["beta"].script(ow.error(503, "deep-2 down", "server_error"))
    fakes["gamma"].script(ow.stream(["from ", "three"]))
    assert _streamed_text(oai, "fo-deep") == "from three"
    assert [r.body["model"] for r in (fakes["alpha"].last, fakes["beta"].last, fakes["gamma"].last)] == [
        "gpt-deep", "gpt-deep-2", "gpt-deep-3"]
    # every model of the cycle failing: each is tried once, and the client gets the last error
    for fake in ("alpha", "beta", "gamma"):
        fakes[fake].reset()
    fakes["alpha"].script(ow.error(502, "deep down", "server_error"))
    fakes["beta"].script(ow.error(503, "deep-2 down", "server_error"))
    fakes["gamma"].script(ow.error(500, "deep-3 down", "server_error"))
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(model="fo-deep-3", messages=USER)
    assert "deep down" in caught.value.message  # fo-deep-3, then fo-deep-2, then fo-deep
    assert [len(fakes[f].received) for f in ("alpha", "beta", "gamma")] == [1, 1, 1]
