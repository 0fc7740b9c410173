"""OpenAI's Batch API through the official SDK against a live server (SQLite), its lines
answered by a loopback upstream: every endpoint, output and error files, validation of
the input file and of the create call, cancel while running, the concurrency cap,
listing, and another project's batches."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from openai.types import Completion, CreateEmbeddingResponse, ModerationCreateResponse
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from tests.conftest import LOCAL
from tests.e2e import batch_support
from tests.e2e.batch_support import (
    CHAT,
    EMBED,
    MODERATION,
    PRICED,
    batch_server,
    chat_line,
    file_lines,
    openai_client,
    raw,
    raw_batch,
    start,
    upload,
    wait_batch,
    wait_for,
)
from tests.e2e.ledger import entries
from tests.fakes.echo_upstream import EchoUpstream
from tests.server import LiveServer
from tests.spec import validate_openai
from tests.tenants import new_key, new_project, project_key

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream) -> Iterator[LiveServer]:
    server = batch_server(tmp_path_factory.mktemp("batches"), echo)
    start(server)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return openai_client(live)


def test_chat_batch_ends_with_output_and_error_files(client: openai.OpenAI, echo: EchoUpstream,
                                                     live: LiveServer) -> None:
    lines = [chat_line(f"req-{n}", f"hello {n}") for n in range(10)]
    lines.insert(3, chat_line("refused", "FAIL please"))
    lines.insert(6, chat_line("bad-param", "hot", temperature="very"))
    file_id = upload(client, lines)
    created = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions",
                                    completion_window="24h", metadata={"run": "nightly"})
    assert created.status == "validating" and created.id.startswith("batch_")
    assert created.expires_at == created.created_at + 24 * 3600
    validate_openai(raw_batch(client, created.id), "Batch")

    done = wait_batch(client, created.id, {"completed", "failed"})
    assert done.status == "completed", done.errors
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (12, 10, 2)
    assert done.metadata == {"run": "nightly"} and done.model == CHAT
    assert done.in_progress_at is not None and done.finalizing_at is not None and done.completed_at is not None

    output = file_lines(client, done.output_file_id)
    assert sorted(line["custom_id"] for line in output) == sorted(f"req-{n}" for n in range(10))
    for line in output:
        assert line["id"].startswith("batch_req_") and line["error"] is None
        assert line["response"]["status_code"] == 200
        validate_openai(line["response"]["body"], "CreateChatCompletionResponse")
        body = ChatCompletion.model_validate(line["response"]["body"])
        assert body.choices[0].message.content == f"echo:hello {line['custom_id'].split('-')[1]}"
    errors = {line["custom_id"]: line for line in file_lines(client, done.error_file_id)}
    assert set(errors) == {"refused", "bad-param"}
    assert errors["refused"]["response"]["status_code"] == 400
    assert "upstream refuses FAIL please" in errors["refused"]["response"]["body"]["error"]["message"]
    assert errors["bad-param"]["response"]["status_code"] == 400
    validate_openai(errors["bad-param"]["response"]["body"], "ErrorResponse")
    assert errors["bad-param"]["response"]["body"]["error"]["param"] == "temperature"
    assert echo.seen["hot"] == 0  # refused before any upstream call

    for file_id in (done.output_file_id, done.error_file_id):
        assert file_id is not None
        meta = client.files.retrieve(file_id)
        assert meta.purpose == "batch_output" and meta.filename.startswith(done.id)
    assert echo.max_in_flight <= 3  # concurrency_per_batch
    log = live.log_path.read_text()
    assert f"batch {done.id}: 5 more requests done" in log and f"batch {done.id}: 10 more requests done" in log


def test_every_other_endpoint(client: openai.OpenAI, echo: EchoUpstream) -> None:
    cases = {
        "/v1/embeddings": ({"model": EMBED, "input": ["alpha", "beta"]}, CreateEmbeddingResponse,
                           "CreateEmbeddingResponse"),
        "/v1/completions": ({"model": CHAT, "prompt": "complete me", "max_tokens": 20}, Completion,
                            "CreateCompletionResponse"),
        "/v1/responses": ({"model": CHAT, "input": "respond", "store": False}, Response, "Response"),
        "/v1/moderations": ({"input": ["You are a fucking idiot and a worthless piece of shit.", "Lovely weather."]},
                            ModerationCreateResponse, "CreateModerationResponse"),
    }
    started = {}
    for endpoint, (body, _, _) in cases.items():
        line = {"custom_id": "only", "method": "POST", "url": endpoint, "body": body}
        started[endpoint] = client.batches.create(input_file_id=upload(client, [line]), endpoint=endpoint,  # type: ignore[arg-type]
                                                  completion_window="24h").id
    for endpoint, (_, sdk_type, schema) in cases.items():
        done = wait_batch(client, started[endpoint], {"completed", "failed"})
        assert (done.status, done.request_counts.completed, done.request_counts.failed) == ("completed", 1, 0)
        [line] = file_lines(client, done.output_file_id)
        validate_openai(line["response"]["body"], schema)
        parsed = sdk_type.model_validate(line["response"]["body"])
        if endpoint == "/v1/embeddings":
            assert [d.embedding[0] for d in parsed.data] == [5.0, 4.0]
        elif endpoint == "/v1/moderations":
            assert [r.flagged for r in parsed.results] == [True, False] and parsed.model == MODERATION
        elif endpoint == "/v1/completions":
            assert parsed.choices[0].text == "echo:complete me"
        else:
            assert parsed.output_text == "echo:respond" and parsed.status == "completed"
    assert echo.seen["alpha"] == 1 and echo.seen["respond"] == 1


def test_a_bad_input_file_fails_the_batch_naming_lines_and_fields(client: openai.OpenAI, echo: EchoUpstream) -> None:
    lines: list[object] = [
        chat_line("a", "one"),
        b"{not json",
        chat_line("a", "duplicate id"),
        {**chat_line("c", "wrong url"), "url": "/v1/embeddings"},
        {"custom_id": "d", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": []}},
        {**chat_line("e", "streams", stream=True)},
    ]
    batch = client.batches.create(input_file_id=upload(client, lines), endpoint="/v1/chat/completions",
                                  completion_window="24h")
    failed = wait_batch(client, batch.id, {"failed", "completed"})
    assert failed.status == "failed" and failed.failed_at is not None
    assert failed.errors is not None and failed.errors.data is not None
    found = {(e.line, e.param, e.code) for e in failed.errors.data}
    assert found == {(2, None, "invalid_json_line"), (3, "custom_id", "duplicate_custom_id"),
                     (4, "url", "invalid_url"), (5, "body.model", "invalid_request"),
                     (6, "body.stream", "invalid_request")}
    assert failed.output_file_id is None and failed.error_file_id is None
    assert sum(echo.seen.values()) == 0  # nothing ran


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"endpoint": "/v1/chat/completions", "completion_window": "24h"}, 400, "input_file_id"),
    ({"input_file_id": "FILE", "endpoint": "/v1/images/generations", "completion_window": "24h"}, 400, "endpoint"),
    ({"input_file_id": "FILE", "endpoint": "/v1/chat/completions", "completion_window": "48h"}, 400,
     "completion_window"),
    ({"input_file_id": "FILE", "endpoint": "/v1/chat/completions", "completion_window": "24h",
      "metadata": {"k": 5}}, 400, "metadata.k"),
    ({"input_file_id": "FILE", "endpoint": "/v1/chat/completions", "completion_window": "24h",
      "output_expires_after": {"anchor": "created_at", "seconds": 5}}, 400, "output_expires_after.seconds"),
    ({"input_file_id": "file-nosuchfile", "endpoint": "/v1/chat/completions", "completion_window": "24h"}, 404,
     "input_file_id"),
])
def test_bad_create_calls_name_the_field(live: LiveServer, client: openai.OpenAI, body: dict[str, object],
                                         status: int, param: str) -> None:
    if body.get("input_file_id") == "FILE":
        body = {**body, "input_file_id": upload(client, [chat_line("x", "y")])}
    response = raw(live, "POST", "/v1/batches", json=body)
    assert response.status_code == status, response.text
    validate_openai(response.json(), "ErrorResponse")
    assert response.json()["error"]["param"] == param


def test_an_input_file_of_another_purpose_is_refused(client: openai.OpenAI) -> None:
    file_id = upload(client, [chat_line("x", "y")], purpose="assistants")
    with pytest.raises(openai.BadRequestError) as caught:
        client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    assert caught.value.body["param"] == "input_file_id"  # type: ignore[index]
    assert caught.value.body["code"] == "invalid_file_purpose"  # type: ignore[index]


def test_cancel_while_running(client: openai.OpenAI, echo: EchoUpstream) -> None:
    echo.delay = 0.4
    lines = [chat_line(f"c{n}", f"slow {n}") for n in range(30)]
    batch = client.batches.create(input_file_id=upload(client, lines), endpoint="/v1/chat/completions",
                                  completion_window="24h")
    wait_for(lambda: client.batches.retrieve(batch.id), lambda b: b.request_counts.completed >= 3)
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status in ("cancelling", "cancelled") and cancelling.cancelling_at is not None
    done = wait_batch(client, batch.id, {"cancelled"})
    assert done.cancelled_at is not None and 3 <= done.request_counts.completed < 30
    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert len(output) == done.request_counts.completed
    assert {line["error"]["code"] for line in errors} == {"batch_cancelled"}
    assert all(line["response"] is None for line in errors)
    assert sorted(line["custom_id"] for line in output + errors) == sorted(f"c{n}" for n in range(30))
    assert sum(echo.seen.values()) < 30
    with pytest.raises(openai.BadRequestError):  # a batch that has ended cannot be cancelled
        client.batches.cancel(wait_batch(client, _finished_batch(client), {"completed"}).id)


def _finished_batch(client: openai.OpenAI) -> str:
    return client.batches.create(input_file_id=upload(client, [chat_line("f", "fin")]),
                                 endpoint="/v1/chat/completions", completion_window="24h").id


def test_list_pages_and_another_projects_batches_are_not_found(live: LiveServer, client: openai.OpenAI) -> None:
    other = openai_client(live, project_key(live.url, "batch-tenant"))
    mine = [client.batches.create(input_file_id=upload(client, [chat_line("p", f"page {n}")]),
                                  endpoint="/v1/chat/completions", completion_window="24h").id for n in range(3)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == mine[::-1][:2] and page.has_more
    rest = client.batches.list(limit=2, after=page.data[-1].id)
    assert rest.data[0].id == mine[0]
    listed = raw(live, "GET", "/v1/batches?limit=2").json()
    validate_openai(listed, "ListBatchesResponse")
    assert raw(live, "GET", "/v1/batches?limit=0").json()["error"]["param"] == "limit"

    theirs = other.batches.create(input_file_id=upload(other, [chat_line("t", "theirs")]),
                                  endpoint="/v1/chat/completions", completion_window="24h")
    assert [b.id for b in other.batches.list().data] == [theirs.id]
    for attempt in (lambda: other.batches.retrieve(mine[0]), lambda: other.batches.cancel(mine[0]),
                    lambda: client.batches.retrieve(theirs.id)):
        with pytest.raises(openai.NotFoundError):
            attempt()
    done = wait_batch(client, mine[0], {"completed"})
    with pytest.raises(openai.NotFoundError):
        other.files.content(done.output_file_id)  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError):  # another project's file cannot start a batch
        other.batches.create(input_file_id=upload(client, [chat_line("x", "y")]), endpoint="/v1/chat/completions",
                             completion_window="24h")


def test_lines_run_as_their_key_budget_model_allowlist_and_ledger(live: LiveServer, echo: EchoUpstream) -> None:
    """Each line is metered like an interactive request: the key's budget (two cents: two
    lines of max_tokens 10 at one cent each) refuses the rest, the key's model allowlist
    refuses another model, and every line that ran has its ledger entry."""
    project = new_project(live.url, "batch-budget")
    _, secret = new_key(live.url, project, "budgeted", allowed_models=[PRICED],
                        spend_limit={"threshold_amount": 2, "currency": "USD", "interval": "total"})
    client = openai_client(live, secret)
    lines = [chat_line(f"b{n}", f"budget {n}", max_tokens=10) for n in range(6)]
    for line in lines:
        line["body"]["model"] = PRICED
    lines.append(chat_line("not-allowed", "other model"))
    batch = client.batches.create(input_file_id=upload(client, lines), endpoint="/v1/chat/completions",
                                  completion_window="24h")
    done = wait_batch(client, batch.id, {"completed"})
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 5)
    errors = {line["custom_id"]: line["response"] for line in file_lines(client, done.error_file_id)}
    assert errors.pop("not-allowed")["status_code"] == 403
    assert {(e["status_code"], e["body"]["error"]["code"]) for e in errors.values()} == {(429, "insufficient_quota")}
    ours = {text: n for text, n in echo.seen.items() if text.startswith("budget ")}  # another test's late line
    assert echo.seen["other model"] == 0 and sum(ours.values()) == 2  # may reach the shared upstream too
    ran = wait_for(lambda: [e for e in entries(live) if e["project_id"] == project and e["outcome"] == "completed"],
                   lambda found: len(found) >= 2, timeout=20)
    assert [(e["surface"], e["model"]) for e in ran] == [("openai.batch", PRICED)] * 2
    assert [e["cost"]["exact"] for e in ran] == ["0.007"] * 2  # 7 output tokens at 1000 USD/Mtok


@pytest.mark.slow
def test_a_batch_on_the_embedded_model(oai: openai.OpenAI) -> None:
    """The shared server's embedded model answers batch lines as it answers requests."""
    lines = [{"custom_id": f"local-{n}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": LOCAL, "max_tokens": 8, "temperature": 0,
                       "messages": [{"role": "user", "content": f"Say the number {n}."}]}} for n in range(2)]
    batch = oai.batches.create(input_file_id=upload(oai, lines), endpoint="/v1/chat/completions",
                               completion_window="24h")
    done = wait_batch(oai, batch.id, {"completed", "failed"}, timeout=300)
    assert (done.status, done.request_counts.completed, done.request_counts.failed) == ("completed", 2, 0)
    for line in file_lines(oai, done.output_file_id):
        validate_openai(line["response"]["body"], "CreateChatCompletionResponse")
        body = ChatCompletion.model_validate(line["response"]["body"])
        assert body.model == LOCAL and body.choices[0].message.content
        assert body.usage is not None and 0 < body.usage.completion_tokens <= 8


def test_two_batches_share_the_models_cap(client: openai.OpenAI, echo: EchoUpstream) -> None:
    """Three lines of each batch may run at once, but four of all batches on one model: two
    batches together never hold more of the upstream, and interactive requests still pass."""
    echo.delay = 0.3
    ids = [client.batches.create(input_file_id=upload(client, [chat_line(f"{b}-{n}", f"cap {b} {n}")
                                                               for n in range(10)]),
                                 endpoint="/v1/chat/completions", completion_window="24h").id for b in "xy"]
    wait_for(lambda: echo.in_flight, lambda n: n >= 3)
    interactive = client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "live"}])
    assert interactive.choices[0].message.content == "echo:live"
    for batch_id in ids:
        assert wait_batch(client, batch_id, {"completed"}).request_counts.completed == 10
    assert echo.max_in_flight in (4, 5)  # the model's cap, and one interactive request beside it
