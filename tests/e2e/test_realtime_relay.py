"""A realtime session relayed to an upstream realtime endpoint (``task: realtime``) through
the official SDK: events pass both ways unchanged, the upstream sees its own key and model
name (never the client's key), each response's reported usage lands in the ledger, a client
secret's session is applied upstream, and an upstream that refuses is the handshake's error."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.ledger import newest_id, wait_new
from tests.e2e.realtime_support import of, receive, session, until
from tests.fakes.realtime_upstream import ANSWER, KEY, FakeRealtimeUpstream
from tests.server import MASTER_KEY, LiveServer, sdk
from tests.tenants import new_key, new_project

RELAYED, REFUSED = "rt-relayed", "rt-refused"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeRealtimeUpstream]:
    fake = FakeRealtimeUpstream()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, upstream: FakeRealtimeUpstream) -> Iterator[LiveServer]:
    models = [
        {"name": RELAYED, "provider": "openai", "task": "realtime", "base_url": upstream.url + "/v1",
         "api_key": KEY, "model": "gpt-realtime-upstream", "aliases": ["gpt-realtime-relay*"],
         "price": {"input_per_mtok": 4, "output_per_mtok": 16}},
        {"name": REFUSED, "provider": "openai", "task": "realtime", "base_url": upstream.url + "/v1",
         "api_key": "wrong-key"},
    ]
    server = LiveServer(tmp_path_factory.mktemp("switchyard-realtime-relay"), models, auth_cache_seconds=0)
    server.start(wait_ready=True)
    yield server
    server.stop()


def test_a_relayed_session_passes_events_both_ways_and_meters_responses(
        live: LiveServer, upstream: FakeRealtimeUpstream) -> None:
    since = newest_id(live)
    with session(live, "gpt-realtime-relay-1") as connection:
        created = receive(connection)
        assert created["session"]["id"] == "sess_upstream" and created["session"]["model"] == "gpt-realtime-upstream"
        connection.session.update(session={"type": "realtime", "instructions": "relay me"})
        assert until(connection, "session.updated")[-1]["session"]["instructions"] == "relay me"
        connection.conversation.item.create(item={"type": "message", "role": "user",
                                                  "content": [{"type": "input_text", "text": "hi"}]})
        connection.response.create()
        events = until(connection, "response.done")
    assert [e["type"] for e in events][-2:] == ["response.output_text.delta", "response.done"]
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == ANSWER
    seen = upstream.connections[-1]
    assert seen.model == "gpt-realtime-upstream" and seen.headers["authorization"] == f"Bearer {KEY}"
    assert MASTER_KEY not in str(seen.headers)
    assert [e["type"] for e in seen.events] == ["session.update", "conversation.item.create", "response.create"]
    entry = wait_new(live, since, 1)[0]
    assert entry["model"] == RELAYED
    assert (entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == (9, 4)


def test_a_client_secret_session_is_applied_upstream(live: LiveServer, upstream: FakeRealtimeUpstream) -> None:
    secret = sdk(live).realtime.client_secrets.create(
        session={"type": "realtime", "model": RELAYED, "instructions": "from the secret"})
    with session(live, RELAYED, key=secret.value) as connection:
        assert receive(connection)["type"] == "session.created"
        assert until(connection, "session.updated")[-1]["session"]["instructions"] == "from the secret"
    assert upstream.connections[-1].events[0]["session"]["instructions"] == "from the secret"


def test_an_upstream_that_refuses_is_the_handshake_error(live: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused, session(live, REFUSED):
        pass
    assert refused.value.response.status_code == 502


def test_relayed_responses_count_against_the_rate_limit(live: LiveServer, upstream: FakeRealtimeUpstream) -> None:
    project = new_project(live.url, "relay-limited")
    _, key = new_key(live.url, project, "one a minute", max_requests_per_1_minute=1)
    since = newest_id(live)
    with session(live, RELAYED, key=key) as connection:
        receive(connection)
        connection.response.create()
        first = until(connection, "response.done")
        assert not of(first, "error") and first[-1]["response"]["output"][0]["content"][0]["text"] == ANSWER
        connection.response.create(event_id="ev_second")
        second = until(connection, "response.done")
        refused = of(second, "error")
        assert refused and refused[0]["error"]["type"] == "rate_limit_error", second
        assert "requests" in refused[0]["error"]["message"]
        response_id = of(second, "response.created")[0]["response"]["id"]
        seen = upstream.connections[-1]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e["type"] == "response.cancel" for e in seen.events):
            time.sleep(0.05)
    assert {"type": "response.cancel", "response_id": response_id} in seen.events
    # both responses were metered (the upstream did the work), each as a call of its own
    assert len(wait_new(live, since, 2)) == 2
