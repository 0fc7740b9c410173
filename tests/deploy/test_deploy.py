"""The deployment in deploy/ (nginx in front of three Switchyard processes on one PostgreSQL
database and Redis, started by deploy/run.sh), through the official SDKs: work begun on
one process goes on through another, a process killed (-9) mid-job has its batch, its
file being indexed and its background response finished by another (the response ended
``failed`` with the reason, as documented), and 1,000-line batches over an upstream that
refuses some lines, fails some once (tried again, then answered) and fails others every
time (tried ``batches.retries`` more times, then an error line) end with exact counts and
files on both batch APIs. The script restarts a killed process; stopped with SIGTERM, everything drains."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.deploy.support import Deployment
from tests.e2e.batch_support import (
    CHAT,
    CLAUDE,
    EMBED,
    MODERATION,
    echo_models,
    file_lines,
    message_request,
    upload,
    wait_batch,
    wait_for,
    wait_message_batch,
)
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import openai_wire as ow
from tests.fakes.echo_upstream import EchoUpstream
from tests.fakes.upstream import FakeUpstream, by_stream
from tests.pg import fresh_postgres_url
from tests.server import MASTER_KEY

pytestmark = pytest.mark.postgres

SCRIPTED = "gpt-scripted"  # the scripted upstream (fake_openai), for responses
LINES = 1000


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoUpstream]:
    upstream = EchoUpstream()
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture(autouse=True)
def fresh_echo(echo: EchoUpstream) -> None:
    echo.reset()


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream,
                     fake_openai: FakeUpstream) -> AsyncIterator[Deployment]:
    workdir = tmp_path_factory.mktemp("deploy")
    models = [*(model for model in echo_models(echo) if model["name"] != MODERATION),  # no embedded model
              {"name": SCRIPTED, "provider": "openai", "base_url": fake_openai.url + "/v1",
               "api_key": "up-key", "model": "gpt-upstream", "timeout": 120}]
    async with fresh_postgres_url() as url:
        config = {
            "models": models, "database_url": url, "files_dir": str(workdir / "files"),
            "secret_key": secrets.token_urlsafe(32), "redis_url": "redis://127.0.0.1:6379/13",
            "rate_limits": {"redis_prefix": f"deploy-{secrets.token_hex(4)}"},
            "batches": {"concurrency_per_batch": 16, "concurrency_per_model": 32, "lease_seconds": 3},
            "background_lease_seconds": 2, "ingest_lease_seconds": 3,
            "vector_store_embedding_model": EMBED, "metering": {"flush_seconds": 0.05},
            "drain_seconds": 5,
        }
        deployment = Deployment(workdir, config)
        try:
            deployment.start()
            yield deployment
        finally:
            status = deployment.stop()
        assert status == 0, deployment.logs()  # every process drained and stopped on SIGTERM


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def test_nginx_spreads_requests_and_health_checks_answer(deployment: Deployment, echo: EchoUpstream) -> None:
    for port in deployment.ports:
        ready = httpx.get(deployment.process_url(port) + "/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    client = deployment.openai()
    for n in range(9):
        reply = client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": f"hi {n}"}])
        assert reply.choices[0].message.content == f"echo:hi {n}"
    served = [port for port in deployment.ports if "POST /v1/chat/completions" in deployment.process_log(port)]
    assert len(served) == 3, "nginx sent every request to the same process"


def test_a_stored_response_made_on_one_process_is_continued_on_another(
        deployment: Deployment, fake_openai: FakeUpstream) -> None:
    first_port, second_port = deployment.ports[0], deployment.ports[1]
    fake_openai.script(by_stream(ow.completion("Paris."), ow.stream(["Paris."])),
                       by_stream(ow.completion("About two million."), ow.stream(["About two million."])))
    first = deployment.openai(first_port).responses.create(model=SCRIPTED, input="Capital of France?")
    assert first.output_text == "Paris."
    second = deployment.openai(second_port).responses.create(
        model=SCRIPTED, input="How many live there?", previous_response_id=first.id)
    assert second.output_text == "About two million."
    sent = [(m["role"], _text(m.get("content"))) for m in fake_openai.last.body["messages"]]
    assert sent == [("user", "Capital of France?"), ("assistant", "Paris."), ("user", "How many live there?")]
    through_nginx = deployment.openai().responses.retrieve(second.id)
    assert through_nginx.previous_response_id == first.id and through_nginx.output_text == "About two million."
    items = deployment.openai(deployment.ports[2]).responses.input_items.list(second.id)
    assert [item.content[0].text for item in items.data] == ["How many live there?"]  # type: ignore[union-attr]


def test_a_background_response_started_on_one_process_is_streamed_from_another(
        deployment: Deployment, fake_openai: FakeUpstream) -> None:
    pieces = [f"w{n} " for n in range(40)]
    fake_openai.script(ow.stream(pieces, delay=0.03))
    started = deployment.openai(deployment.ports[0]).responses.create(
        model=SCRIPTED, input="count", background=True, stream=True)
    before = []
    for event in started:
        before.append(event.model_dump(mode="json", exclude_unset=True))
        if event.type == "response.output_text.delta" and len(before) >= 10:
            break
    started.close()  # a background response goes on without its first reader
    response_id = before[0]["response"]["id"]
    after = [e.model_dump(mode="json", exclude_unset=True) for e in deployment.openai(deployment.ports[1])
             .responses.retrieve(response_id, stream=True, starting_after=before[-1]["sequence_number"])]
    events = before + after
    assert [e["sequence_number"] for e in events] == list(range(len(events)))  # none lost, none repeated
    check_stream(events)
    assert events[-1]["type"] == "response.completed"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "".join(pieces)
    whole = [e.model_dump(mode="json", exclude_unset=True)
             for e in deployment.openai().responses.retrieve(response_id, stream=True)]
    assert whole == events


def test_a_background_response_whose_process_is_killed_ends_failed_with_the_reason(
        deployment: Deployment, fake_openai: FakeUpstream) -> None:
    hanging = ow.stream(["partial"])
    hanging.stall = (2, 60)
    fake_openai.script(hanging)
    before = []
    for event in deployment.openai().responses.create(model=SCRIPTED, input="go", background=True, stream=True):
        before.append(event.model_dump(mode="json", exclude_unset=True))
        if event.type == "response.output_text.delta":
            break
    response_id = before[0]["response"]["id"]
    running = deployment.running(response_id, "background_response")
    deployment.kill(running)
    other = next(port for port in deployment.ports if port != running)
    client = deployment.openai(other)
    live = [e.model_dump(mode="json", exclude_unset=True) for e in client.responses.retrieve(response_id, stream=True)]
    failed = wait_for(lambda: client.responses.retrieve(response_id), lambda r: r.status == "failed", timeout=60)
    assert failed.error is not None and "stopped" in failed.error.message
    check_stream(live)
    assert live[-1]["type"] == "response.failed"
    assert live[:len(before)] == before
    assert deployment.openai().responses.retrieve(response_id).status == "failed"  # through nginx, whichever answers


def test_a_batch_whose_process_is_killed_is_finished_by_another(deployment: Deployment, echo: EchoUpstream) -> None:
    echo.delay = 0.3
    client = deployment.openai()
    count = 120
    file_id = upload(client, [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
                               "body": {"model": CHAT, "messages": [{"role": "user", "content": f"line {n}"}]}}
                              for n in range(count)])
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    wait_for(lambda: client.batches.retrieve(batch.id), lambda b: b.request_counts.completed >= 16)
    running = deployment.running(batch.id, "batch")
    deployment.kill(running)
    echo.delay = 0.02
    done = wait_batch(client, batch.id, {"completed"}, timeout=120)
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (count, count, 0)
    output = file_lines(client, done.output_file_id)
    assert sorted(int(line["custom_id"][1:]) for line in output) == list(range(count))
    for line in output:
        content = line["response"]["body"]["choices"][0]["message"]["content"]
        assert content == "echo:line " + line["custom_id"][1:]
    assert all(seen <= 2 for seen in echo.seen.values())  # in flight at the kill: asked once more at most
    finishers = [port for port in deployment.ports
                 if deployment.process_log(port).count(f"batch job {batch.id} runs on") and port != running]
    restarted = deployment.process_log(running).count(f"batch job {batch.id} runs on") > 1
    assert finishers or restarted, deployment.logs()


def test_a_file_whose_indexing_process_is_killed_is_indexed_by_another(
        deployment: Deployment, echo: EchoUpstream) -> None:
    echo.delay = 1.0  # each batch of 64 chunks takes a second to embed
    client = deployment.openai()
    store = client.vector_stores.create(name="durable")
    text = " ".join(f"Sentence {n} tells of the tides, the moon and the sea." for n in range(1500))
    file = client.files.create(file=("long.txt", text.encode()), purpose="assistants")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id, chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}})
    running = deployment.running(f"{store.id}/{file.id}", "ingest")
    wait_for(lambda: sum(echo.seen.values()), lambda seen: seen >= 64)  # mid-file: a batch embedded
    deployment.kill(running)
    echo.delay = 0.0
    done = wait_for(lambda: client.vector_stores.files.retrieve(file.id, vector_store_id=store.id),
                    lambda f: f.status != "in_progress", timeout=120)
    assert done.status == "completed", done.last_error
    hits = client.vector_stores.search(store.id, query="Sentence 1499 tells of the tides")
    assert hits.data and hits.data[0].file_id == file.id


def _line_text(n: int) -> str:
    if n % 7 == 3:
        return f"line {n} FAIL"  # refused by the upstream (400): an error line
    if n % 89 == 20:
        return f"line {n} BROKEN"  # the upstream fails it (500) every time: tried 3 times, an error line
    if n % 97 == 50:
        return f"line {n} FLAKY"  # the upstream fails it (500) once: tried again, then answered
    if n % 101 == 60:
        return f"line {n} BUSY"  # overloaded once (503/529): tried again, then answered
    return f"line {n}"


REFUSED = {n for n in range(LINES) if "FAIL" in _line_text(n)}
BROKEN = {n for n in range(LINES) if "BROKEN" in _line_text(n)}
FLAKY = {n for n in range(LINES) if "FLAKY" in _line_text(n) or "BUSY" in _line_text(n)}
ERRORS = REFUSED | BROKEN
TRIES = 3  # batches.retries (2 by default) + 1


def test_a_thousand_line_batch_over_a_failing_upstream(deployment: Deployment, echo: EchoUpstream) -> None:
    assert (len(REFUSED), len(BROKEN), len(FLAKY)) == (143, 11, 17)
    client = deployment.openai()
    file_id = upload(client, [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
                               "body": {"model": CHAT, "messages": [{"role": "user", "content": _line_text(n)}]}}
                              for n in range(LINES)])
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_batch(client, batch.id, {"completed", "failed"}, timeout=240)
    assert done.status == "completed", done.errors
    counts = done.request_counts
    assert (counts.total, counts.completed, counts.failed) == (LINES, LINES - len(ERRORS), len(ERRORS))
    output = file_lines(client, done.output_file_id)
    assert sorted(int(line["custom_id"][1:]) for line in output) == sorted(set(range(LINES)) - ERRORS)
    for line in output:
        n = int(line["custom_id"][1:])
        assert line["error"] is None and line["response"]["status_code"] == 200
        assert line["response"]["body"]["choices"][0]["message"]["content"] == f"echo:{_line_text(n)}"
    errors = {int(line["custom_id"][1:]): line for line in file_lines(client, done.error_file_id)}
    assert sorted(errors) == sorted(ERRORS)
    for n in REFUSED:
        assert errors[n]["response"]["status_code"] == 400
        assert f"upstream refuses {_line_text(n)}" in errors[n]["response"]["body"]["error"]["message"]
    for n in BROKEN:
        assert errors[n]["response"]["status_code"] == 502
        assert f"upstream broke on {_line_text(n)}" in errors[n]["response"]["body"]["error"]["message"]
    assert all(echo.seen[_line_text(n)] == 2 for n in FLAKY)  # failed once, then answered
    assert all(echo.seen[_line_text(n)] == TRIES for n in BROKEN)
    assert all(echo.seen[_line_text(n)] == 1 for n in set(range(LINES)) - FLAKY - BROKEN)  # a 400 is not retried


def test_a_thousand_request_message_batch_over_a_failing_upstream(deployment: Deployment, echo: EchoUpstream) -> None:
    client = deployment.anthropic()
    requests = [message_request(f"m{n}", _line_text(n), model=CLAUDE) for n in range(LINES)]
    created = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    assert created.request_counts.processing == LINES
    done = wait_message_batch(client, created.id, timeout=240)
    counts = done.request_counts
    assert (counts.processing, counts.succeeded, counts.errored, counts.canceled, counts.expired) == (
        0, LINES - len(ERRORS), len(ERRORS), 0, 0)
    results = {r.custom_id: r.result for r in client.messages.batches.results(created.id)}
    assert set(results) == {f"m{n}" for n in range(LINES)}
    for n in range(LINES):
        result = results[f"m{n}"]
        if n in REFUSED:
            assert result.type == "errored"
            assert result.error.error.type == "invalid_request_error"  # type: ignore[union-attr]
            assert f"upstream refuses {_line_text(n)}" in result.error.error.message  # type: ignore[union-attr]
        elif n in BROKEN:
            assert result.type == "errored"
            assert result.error.error.type == "api_error"  # type: ignore[union-attr]
            assert f"upstream broke on {_line_text(n)}" in result.error.error.message  # type: ignore[union-attr]
        else:
            assert result.type == "succeeded"
            assert result.message.content[0].text == f"echo:{_line_text(n)}"  # type: ignore[union-attr]
    raw = httpx.get(f"{deployment.url}/v1/messages/batches/{created.id}/results", timeout=60,
                    headers={"x-api-key": MASTER_KEY, "anthropic-version": "2023-06-01"})
    ids = [orjson.loads(line)["custom_id"] for line in raw.text.splitlines()]
    assert sorted(ids) == sorted(f"m{n}" for n in range(LINES))  # each result once
    assert all(echo.seen[_line_text(n)] == 2 for n in FLAKY)
    assert all(echo.seen[_line_text(n)] == TRIES for n in BROKEN)
    assert all(echo.seen[_line_text(n)] == 1 for n in set(range(LINES)) - FLAKY - BROKEN)


def test_the_killed_processes_were_started_again(deployment: Deployment) -> None:
    assert len(deployment.killed) == 3
    for port, pid in deployment.killed:
        deployment.wait_back(port, pid)
    client = deployment.openai()
    for n in range(3):
        reply = client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": f"again {n}"}])
        assert reply.choices[0].message.content == f"echo:again {n}"
