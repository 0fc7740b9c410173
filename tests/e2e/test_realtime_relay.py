"""A realtime session relayed to an upstream realtime endpoint (``task: realtime``) through
the official SDK: events pass both ways unchanged, the upstream sees its own key and model
name (never the client's key), each response's reported usage lands in the ledger, a client
secret's session is applied upstream, and an upstream that refuses is the handshake's error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.ledger import newest_id, wait_new
from tests.e2e.realtime_support import receive, sdk, session, until
from tests.fakes.realtime_upstream import ANSWER, KEY, FakeRealtimeUpstream
from tests.server import MASTER_KEY, LiveServer

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
