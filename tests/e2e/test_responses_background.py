"""Background responses: poll, stream, reconnect, cancel, bounded replay, and
recovery when the server dies mid-run."""

from __future__ import annotations

import signal
import time

import openai
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import openai_wire as ow
from tests.server import MASTER_KEY, LiveServer


def _wait_status(client: openai.OpenAI, response_id: str, wanted: set[str], timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = client.responses.retrieve(response_id)
        if current.status in wanted:
            return current
        time.sleep(0.1)
    raise AssertionError(f"{response_id} never reached {wanted}; last {current.status}")


def _client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def test_background_poll_until_completed(oai, fake_openai) -> None:
    fake_openai.script(ow.stream(["slow ", "and ", "steady"], delay=0.1))
    created = oai.responses.create(model=VIA_OPENAI, input="go", background=True)
    assert created.status in ("queued", "in_progress") and created.background is True
    done = _wait_status(oai, created.id, {"completed"})
    assert done.output_text == "slow and steady"
    assert done.usage.total_tokens > 0


def test_background_stream_then_reconnect_without_loss_or_repeat(oai, fake_openai) -> None:
    fake_openai.script(ow.stream([f"w{i} " for i in range(12)], delay=0.05))
    first_part = []
    stream = oai.responses.create(model=VIA_OPENAI, input="count", background=True, stream=True)
    for event in stream:
        first_part.append(event.model_dump(mode="json", exclude_unset=True))
        if len(first_part) == 6:
            break
    stream.close()
    response_id = first_part[0]["response"]["id"]
    assert [e["type"] for e in first_part[:3]] == ["response.created", "response.queued", "response.in_progress"]
    rest = [e.model_dump(mode="json", exclude_unset=True) for e in
            oai.responses.retrieve(response_id, stream=True, starting_after=first_part[-1]["sequence_number"])]
    events = first_part + rest
    check_stream(events)
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "".join(f"w{i} " for i in range(12))
    replay = [e.model_dump(mode="json", exclude_unset=True)
              for e in oai.responses.retrieve(response_id, stream=True, starting_after=2)]
    assert replay == events[3:]


def test_cancel_a_running_background_response(oai, fake_openai) -> None:
    slow = ow.stream(["never finishes"])
    slow.stall = (2, 20)
    fake_openai.script(slow)
    created = oai.responses.create(model=VIA_OPENAI, input="go", background=True)
    _wait_status(oai, created.id, {"in_progress"})
    cancelled = oai.responses.cancel(created.id)
    assert cancelled.status == "cancelled"
    assert oai.responses.retrieve(created.id).status == "cancelled"


def test_foreground_responses_cannot_be_cancelled_or_replayed(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("done"))
    created = oai.responses.create(model=VIA_OPENAI, input="x")
    with pytest.raises(openai.BadRequestError):
        oai.responses.cancel(created.id)


@pytest.fixture
def fragile_server(tmp_path, fake_openai, fake_anthropic):
    live = LiveServer(tmp_path, upstream_models(fake_openai, fake_anthropic), background_lease_seconds=1.5,
                      response_event_buffer=8)
    live.start(wait_ready=True, timeout=60)
    yield live
    live.stop()


def test_evicted_events_answer_a_clear_error(fragile_server, fake_openai) -> None:
    client = _client(fragile_server)
    fake_openai.script(ow.stream([f"p{i}" for i in range(20)]))
    created = client.responses.create(model=VIA_OPENAI, input="long", background=True)
    done = _wait_status(client, created.id, {"completed"})
    assert done.output_text == "".join(f"p{i}" for i in range(20))
    with pytest.raises(openai.BadRequestError) as caught:
        list(client.responses.retrieve(created.id, stream=True, starting_after=0))
    assert caught.value.body["param"] == "starting_after"
    tail = [e.type for e in client.responses.retrieve(created.id, stream=True, starting_after=1000)]
    assert tail == []


@pytest.fixture
def mortal_server(tmp_path, fake_openai, fake_anthropic):
    """Short leases (a dead runner's response fails fast), the whole event log kept, and
    upstreams patient enough that a stalled answer is still running when the server dies."""
    models = [{**model, "timeout": 120} for model in upstream_models(fake_openai, fake_anthropic)]
    live = LiveServer(tmp_path, models, background_lease_seconds=1.5)
    live.start(wait_ready=True, timeout=60)
    yield live
    live.stop()


def test_server_death_mid_run_marks_the_response_failed(mortal_server, fake_openai) -> None:
    fragile_server = mortal_server
    client = _client(fragile_server)
    hanging = ow.stream(["partial"])
    hanging.stall = (2, 60)
    fake_openai.script(hanging)
    stream = client.responses.create(model=VIA_OPENAI, input="go", background=True, stream=True)
    before = []
    for event in stream:  # until the model is mid-answer, its message item open
        before.append(event.model_dump(mode="json", exclude_unset=True))
        if event.type == "response.output_text.delta":
            break
    stream.close()
    created = before[0]["response"]
    fragile_server.process.send_signal(signal.SIGKILL)
    fragile_server.process.wait()
    fragile_server.process = None
    fragile_server.start(wait_ready=True, timeout=60)
    # A follower attached after the restart (before or after the lease runs out) and a
    # replay afterwards both end with response.failed, not with a silent end of stream.
    live = [e.model_dump(mode="json", exclude_unset=True)
            for e in client.responses.retrieve(created["id"], stream=True)]
    failed = _wait_status(client, created["id"], {"failed"}, timeout=30)
    assert failed.error is not None and "stopped" in failed.error.message
    replay = [e.model_dump(mode="json", exclude_unset=True)
              for e in client.responses.retrieve(created["id"], stream=True)]
    for events in (live, replay):
        check_stream(events)  # from response.created, numbered without gaps, to a terminal event
        assert events[-1]["type"] == "response.failed", [e["type"] for e in events]
        assert events[-1]["response"]["status"] == "failed"
        assert "stopped" in events[-1]["response"]["error"]["message"]
    assert replay == live
    assert live[:len(before)] == before
    assert failed.output[0].type == "message" and failed.output[0].status == "incomplete"
    assert failed.output[0].content[0].text == "partial"
