"""A deployment's circuit breaker set through ``/v1/organization/deployments``: stored,
shown on retrieve, refused with a 400 naming the field when out of range, and applied to
the next requests without a restart (a low error-rate threshold takes the deployment out,
the other one serves, and after its own cooldown a probe brings it back)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream, running
from tests.server import LiveServer, sdk
from tests.tenants import deployments_call

USER = [{"role": "user", "content": "hi"}]
ROUTING_COOLDOWN = 30.0  # the routing's: a test that waited for it would time out
OWN_COOLDOWN = 1.0  # the deployment's own, set through the API


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeUpstream]]:
    with running(FakeUpstream(name) for name in ("alpha", "beta")) as started:
        yield started


@pytest.fixture(autouse=True)
def _reset(fakes: dict[str, FakeUpstream]) -> None:
    for fake in fakes.values():
        fake.reset()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = Path(tmp_path_factory.mktemp("breaker-admin"))
    routing = {"max_attempts": 2, "backoff_initial": 0.01, "backoff_max": 0.05, "breaker_failures": 2,
               "breaker_cooldown": ROUTING_COOLDOWN, "refresh_seconds": 0.5, "seed": 3}
    server = LiveServer(workdir, [], routing=routing, database_url=f"sqlite+aiosqlite:///{workdir / 'brk.db'}")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def oai(live: LiveServer) -> openai.OpenAI:
    return sdk(live)


def _admin(live: LiveServer, method: str, path: str = "", body: Any = None) -> httpx.Response:
    return deployments_call(live.url, method, path, body)


def _create(live: LiveServer, fake: FakeUpstream, model: str, **fields: Any) -> dict[str, Any]:
    answer = _admin(live, "POST", body={"model": model, "provider": "openai", "upstream_model": "gpt-up",
                                        "base_url": fake.url + "/v1", "api_key": "sk-brk-test-0000", **fields})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _ask(oai: openai.OpenAI, model: str) -> str | None:
    return oai.chat.completions.create(model=model, messages=USER).choices[0].message.content


def _down() -> Any:
    return ow.error(500, "down", "server_error")


def test_a_threshold_set_through_the_api_takes_the_deployment_out_and_a_probe_brings_it_back(
        live, oai, fakes) -> None:
    alpha, beta = fakes["alpha"], fakes["beta"]
    first = _create(live, alpha, "brk-live", priority=0)
    _create(live, beta, "brk-live", priority=1)  # used only while the first is out
    assert (first["breaker_error_rate"], first["breaker_failures"], first["breaker_cooldown"]) == (None, None, None)
    assert first["breaker_effective"] == {"failures": 2, "cooldown": ROUTING_COOLDOWN, "error_rate": None,
                                          "window": None, "min_calls": None}

    # the routing's breaker alone: failing every other call never opens it (never two in a row)
    alpha.script(_down(), ow.completion("alpha 1"), _down(), ow.completion("alpha 2"))
    beta.script(ow.completion("beta 1"), ow.completion("beta 2"))
    assert [_ask(oai, "brk-live") for _ in range(4)] == ["beta 1", "alpha 1", "beta 2", "alpha 2"]
    assert _admin(live, "GET", f"/{first['id']}").json()["breaker_state"] == "closed"

    changed = _admin(live, "POST", f"/{first['id']}", {
        "breaker_error_rate": 0.5, "breaker_min_calls": 4, "breaker_window": 60, "breaker_failures": 0,
        "breaker_cooldown": OWN_COOLDOWN})
    assert changed.status_code == 200, changed.text
    shown = _admin(live, "GET", f"/{first['id']}").json()
    for body in (changed.json(), shown):
        assert (body["breaker_error_rate"], body["breaker_min_calls"], body["breaker_window"],
                body["breaker_failures"], body["breaker_cooldown"]) == (0.5, 4, 60.0, 0, OWN_COOLDOWN)
        assert body["breaker_effective"] == {"failures": 0, "cooldown": OWN_COOLDOWN, "error_rate": 0.5,
                                             "window": 60.0, "min_calls": 4}
        assert body["breaker_state"] == "closed"
    db = sqlite3.connect(live.workdir / "brk.db")
    try:
        row = db.execute("select breaker_error_rate, breaker_min_calls, breaker_window, breaker_failures, "
                         "breaker_cooldown from deployments where id = ?", (first["id"],)).fetchone()
    finally:
        db.close()
    assert row == (0.5, 4, 60.0, 0, OWN_COOLDOWN)

    # the same pattern now: 3 failures in 5 calls (at least 4) reach half, and the breaker opens
    alpha.script(_down(), ow.completion("alpha 3"), _down(), ow.completion("alpha 4"), _down())
    beta.script(ow.completion("beta 3"), ow.completion("beta 4"), ow.completion("beta 5"), ow.completion("beta 6"))
    assert [_ask(oai, "brk-live") for _ in range(4)] == ["beta 3", "alpha 3", "beta 4", "alpha 4"]
    assert _admin(live, "GET", f"/{first['id']}").json()["breaker_state"] == "closed"  # 2 of 4 failed, on success
    assert _ask(oai, "brk-live") == "beta 5"
    assert _admin(live, "GET", f"/{first['id']}").json()["breaker_state"] == "open"
    sent = len(alpha.received)
    assert _ask(oai, "brk-live") == "beta 6"  # taken out: the other deployment serves
    assert len(alpha.received) == sent

    # its own cooldown (1 s, not the routing's 30 s), then one probe that closes it
    time.sleep(OWN_COOLDOWN + 0.3)
    assert _admin(live, "GET", f"/{first['id']}").json()["breaker_state"] == "half_open"
    alpha.script(ow.completion("alpha probe"), ow.completion("alpha again"))
    assert _ask(oai, "brk-live") == "alpha probe"
    assert _admin(live, "GET", f"/{first['id']}").json()["breaker_state"] == "closed"
    assert _ask(oai, "brk-live") == "alpha again"
    assert len(beta.received) == 6

    # null hands a setting back to the routing
    reset = _admin(live, "POST", f"/{first['id']}", {"breaker_error_rate": None, "breaker_cooldown": None})
    assert reset.status_code == 200, reset.text
    assert reset.json()["breaker_effective"] == {"failures": 0, "cooldown": ROUTING_COOLDOWN, "error_rate": None,
                                                 "window": None, "min_calls": None}
    assert reset.json()["breaker_min_calls"] == 4


@pytest.mark.parametrize(("fields", "param"), [
    ({"breaker_error_rate": 1.5}, "breaker_error_rate"),
    ({"breaker_error_rate": 0}, "breaker_error_rate"),
    ({"breaker_error_rate": "half"}, "breaker_error_rate"),
    ({"breaker_window": 0}, "breaker_window"),
    ({"breaker_window": 90_000}, "breaker_window"),
    ({"breaker_min_calls": 0}, "breaker_min_calls"),
    ({"breaker_min_calls": 2.5}, "breaker_min_calls"),
    ({"breaker_failures": -1}, "breaker_failures"),
    ({"breaker_failures": True}, "breaker_failures"),
    ({"breaker_cooldown": -3}, "breaker_cooldown"),
])
def test_bad_breaker_settings_are_a_400_naming_the_field(live, fakes, fields, param) -> None:
    created = _admin(live, "POST", body={"model": "brk-bad", "provider": "openai", **fields})
    assert created.status_code == 400, created.text
    assert created.json()["error"]["param"] == param and param in created.json()["error"]["message"]
    existing = _create(live, fakes["alpha"], "brk-bad-existing")
    try:
        modified = _admin(live, "POST", f"/{existing['id']}", fields)
        assert modified.status_code == 400, modified.text
        assert modified.json()["error"]["param"] == param
        assert _admin(live, "GET", f"/{existing['id']}").json()["breaker_effective"]["failures"] == 2
    finally:
        _admin(live, "DELETE", f"/{existing['id']}")
