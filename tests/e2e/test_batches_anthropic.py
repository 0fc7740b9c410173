"""Anthropic's Message Batches through the official SDK against a live server (SQLite):
create, retrieve, results as JSONL, list, cancel while running, delete, bad requests
named, any model (an OpenAI-compatible one too), and another project's batches."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import pytest

from tests.e2e import batch_support
from tests.e2e.batch_support import (
    CHAT,
    anthropic_client,
    batch_server,
    message_request,
    raw,
    start,
    wait_for,
    wait_message_batch,
)
from tests.fakes.echo_upstream import EchoUpstream
from tests.server import LiveServer
from tests.spec_anthropic import validate_anthropic
from tests.tenants import project_key

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream) -> Iterator[LiveServer]:
    server = batch_server(tmp_path_factory.mktemp("message-batches"), echo)
    start(server)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> anthropic.Anthropic:
    return anthropic_client(live)


def test_create_run_and_read_results(client: anthropic.Anthropic, live: LiveServer) -> None:
    requests = [message_request(f"m{n}", f"hi {n}") for n in range(6)]
    requests.append(message_request("refused", "FAIL now"))
    requests.append(message_request("via-openai", "other vendor", model=CHAT))
    created = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    assert created.id.startswith("msgbatch_") and created.type == "message_batch"
    assert created.processing_status == "in_progress" and created.results_url is None
    assert created.request_counts.processing == 8

    done = wait_message_batch(client, created.id)
    counts = done.request_counts
    assert (counts.processing, counts.succeeded, counts.errored, counts.canceled, counts.expired) == (0, 7, 1, 0, 0)
    assert done.ended_at is not None and done.results_url == f"{live.url}/v1/messages/batches/{done.id}/results"

    results = {r.custom_id: r for r in client.messages.batches.results(done.id)}
    assert set(results) == {r["custom_id"] for r in requests}
    for n in range(6):
        result = results[f"m{n}"].result
        assert result.type == "succeeded"
        assert result.message.content[0].text == f"echo:hi {n}"  # type: ignore[union-attr]
    assert results["via-openai"].result.message.content[0].text == "echo:other vendor"  # type: ignore[union-attr]
    refused = results["refused"].result
    assert refused.type == "errored" and refused.error.error.type == "invalid_request_error"  # type: ignore[union-attr]
    assert "upstream refuses FAIL now" in refused.error.error.message  # type: ignore[union-attr]

    body = raw(live, "GET", f"/v1/messages/batches/{done.id}/results")
    assert body.headers["content-type"].startswith("application/x-jsonl")
    for line in body.text.splitlines():
        validate_anthropic(json.loads(line), "MessageBatchIndividualResponse")


@pytest.mark.parametrize(("body", "field"), [
    ({"requests": []}, "requests"),
    ({"requests": [{"custom_id": "bad id!", "params": {}}]}, "requests.0.custom_id"),
    ({"requests": [message_request("a", "x"), message_request("a", "y")]}, "requests.1.custom_id"),
    ({"requests": [message_request("a", "x"), {"custom_id": "b", "params": {"model": "claude-fake",
                                                                               "messages": []}}]},
     "requests.1.params.max_tokens"),
    ({"requests": [message_request("a", "x", stream=True)]}, "requests.0.params.stream"),
    ({"requests": [message_request("a", "x")], "extra": 1}, "extra"),
])
def test_bad_requests_are_400_naming_the_field(live: LiveServer, body: dict[str, object], field: str) -> None:
    response = raw(live, "POST", "/v1/messages/batches", json=body)
    assert response.status_code == 400, response.text
    validate_anthropic(response.json(), "ErrorResponse")
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["message"].startswith(field)


def test_cancel_while_running_then_delete(client: anthropic.Anthropic, echo: EchoUpstream) -> None:
    echo.delay = 0.4
    batch = client.messages.batches.create(
        requests=[message_request(f"s{n}", f"slow {n}") for n in range(30)])  # type: ignore[arg-type]
    wait_for(lambda: sum(echo.seen.values()), lambda seen: seen >= 4)
    with pytest.raises(anthropic.BadRequestError):  # still processing
        client.messages.batches.delete(batch.id)
    cancelling = client.messages.batches.cancel(batch.id)
    assert cancelling.processing_status in ("canceling", "ended") and cancelling.cancel_initiated_at is not None
    done = wait_message_batch(client, batch.id)
    counts = done.request_counts
    assert counts.canceled > 0 and counts.succeeded >= 3 and counts.succeeded + counts.canceled == 30
    kinds = [r.result.type for r in client.messages.batches.results(batch.id)]
    assert kinds.count("canceled") == counts.canceled and kinds.count("succeeded") == counts.succeeded

    deleted = client.messages.batches.delete(batch.id)
    assert deleted.id == batch.id and deleted.type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(batch.id)


def test_list_and_another_project(live: LiveServer, client: anthropic.Anthropic) -> None:
    other = anthropic_client(live, project_key(live.url, "message-batch-tenant"))
    mine = [client.messages.batches.create(requests=[message_request("l", f"list {n}")]).id  # type: ignore[list-item]
            for n in range(3)]
    page = client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == mine[::-1][:2] and page.has_more
    listed = raw(live, "GET", "/v1/messages/batches?limit=2").json()
    validate_anthropic(listed, "ListResponse_MessageBatch_")
    older = raw(live, "GET", f"/v1/messages/batches?limit=2&after_id={listed['last_id']}").json()
    assert older["data"][0]["id"] == mine[0]

    theirs = other.messages.batches.create(requests=[message_request("t", "theirs")])  # type: ignore[list-item]
    assert [b.id for b in other.messages.batches.list().data] == [theirs.id]
    attempts = (lambda: other.messages.batches.retrieve(mine[0]), lambda: other.messages.batches.cancel(mine[0]),
                lambda: other.messages.batches.delete(mine[0]), lambda: client.messages.batches.retrieve(theirs.id))
    for attempt in attempts:
        with pytest.raises(anthropic.NotFoundError):
            attempt()
    wait_message_batch(client, mine[0])
    response = raw(live, "GET", f"/v1/messages/batches/{mine[0]}/results", key=other.api_key)  # type: ignore[arg-type]
    assert response.status_code == 404
    validate_anthropic(response.json(), "ErrorResponse")
