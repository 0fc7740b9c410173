"""``POST /v1/responses/{id}/cancel`` reports the status the response really has:
``cancelled`` for a queued or running background response, a finished one unchanged
(cancelling is idempotent, as on OpenAI), and the stored response agrees."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer


def _wait_status(client: openai.OpenAI, response_id: str, wanted: set[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = client.responses.retrieve(response_id).status or ""
        if status in wanted:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{response_id} never reached {wanted}; last {status}")


def test_cancelling_a_completed_response_returns_it_unchanged(oai: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["all ", "done"]))
    created = oai.responses.create(model=VIA_OPENAI, input="go", background=True)
    _wait_status(oai, created.id, {"completed"})
    stored = oai.responses.retrieve(created.id)
    for _ in range(2):
        answer = oai.responses.cancel(created.id)
        assert answer.status == "completed"
        assert answer.output_text == "all done"
        assert answer.model_dump() == stored.model_dump()
    assert oai.responses.retrieve(created.id).status == "completed"


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
               fake_anthropic: FakeUpstream) -> Iterator[openai.OpenAI]:
    """A server that runs one background response at a time: the next one stays queued."""
    live = LiveServer(tmp_path_factory.mktemp("one-worker"), upstream_models(fake_openai, fake_anthropic),
                      background_concurrency=1)
    live.start(wait_ready=True, timeout=60)
    yield openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                        _strict_response_validation=True)
    live.stop()


def test_cancelling_queued_and_running_responses(one_worker: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    stalled = ow.stream(["never ", "finishes"])
    stalled.stall = (2, 30)
    fake_openai.script(stalled)
    running = one_worker.responses.create(model=VIA_OPENAI, input="first", background=True)
    _wait_status(one_worker, running.id, {"in_progress"})
    queued = one_worker.responses.create(model=VIA_OPENAI, input="second", background=True)
    assert one_worker.responses.retrieve(queued.id).status == "queued"

    assert one_worker.responses.cancel(queued.id).status == "cancelled"
    assert one_worker.responses.retrieve(queued.id).status == "cancelled"
    assert one_worker.responses.cancel(running.id).status == "cancelled"
    assert one_worker.responses.retrieve(running.id).status == "cancelled"
    assert one_worker.responses.cancel(queued.id).status == "cancelled"  # again: unchanged
    assert len([r for r in fake_openai.received if r.path.endswith("/chat/completions")]) == 1
