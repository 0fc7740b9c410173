"""Batch lines whose upstream fails in passing are tried again, on both batch APIs through
the official SDKs (live server on SQLite, the loopback echo upstream): a line failing once
with a 500 (or refused as overloaded once) ends in the output; a line failing every time
is tried ``batches.retries`` more times and ends in the error file with the upstream's
error; a line the upstream refuses (400) is asked once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import batch_support
from tests.e2e.batch_support import (
    CHAT,
    anthropic_client,
    batch_server,
    chat_line,
    file_lines,
    message_request,
    openai_client,
    start,
    upload,
    wait_batch,
    wait_message_batch,
)
from tests.fakes.echo_upstream import EchoUpstream
from tests.server import LiveServer

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)
RETRIES = 2
TEXTS = {"ok-1": "plain one", "ok-2": "plain two", "flaky": "FLAKY once", "busy": "BUSY once",
         "broken": "BROKEN always", "refused": "FAIL now"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream) -> Iterator[LiveServer]:
    # the breaker off: this module counts each upstream call a line makes
    server = batch_server(tmp_path_factory.mktemp("batch-retries"), echo,
                          batches={"retries": RETRIES, "retry_backoff": 0.05},
                          routing={"breaker_failures": 0})
    start(server)
    yield server
    server.stop()


def _calls_per_line(echo: EchoUpstream, tag: str) -> dict[str, int]:
    return {custom_id: echo.seen[f"{tag} {text}"] for custom_id, text in TEXTS.items()}


def _expected_calls() -> dict[str, int]:
    return {"ok-1": 1, "ok-2": 1, "flaky": 2, "busy": 2, "broken": RETRIES + 1, "refused": 1}


def test_openai_batch_retries_passing_failures_only(live: LiveServer, echo: EchoUpstream) -> None:
    client = openai_client(live)
    file_id = upload(client, [chat_line(custom_id, f"oai {text}") for custom_id, text in TEXTS.items()])
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_batch(client, batch.id, {"completed", "failed"})
    assert done.status == "completed", done.errors
    assert (done.request_counts.completed, done.request_counts.failed) == (4, 2)
    output = {line["custom_id"]: line for line in file_lines(client, done.output_file_id)}
    assert sorted(output) == ["busy", "flaky", "ok-1", "ok-2"]
    for custom_id, line in output.items():
        assert line["response"]["status_code"] == 200 and line["error"] is None
        assert line["response"]["body"]["choices"][0]["message"]["content"] == f"echo:oai {TEXTS[custom_id]}"
    errors = {line["custom_id"]: line for line in file_lines(client, done.error_file_id)}
    assert sorted(errors) == ["broken", "refused"]
    broken = errors["broken"]["response"]
    assert broken["status_code"] == 502
    assert "upstream broke on oai BROKEN always" in broken["body"]["error"]["message"]
    assert errors["refused"]["response"]["status_code"] == 400
    assert "upstream refuses oai FAIL now" in errors["refused"]["response"]["body"]["error"]["message"]
    assert _calls_per_line(echo, "oai") == _expected_calls()


def test_message_batch_retries_passing_failures_only(live: LiveServer, echo: EchoUpstream) -> None:
    client = anthropic_client(live)
    requests = [message_request(custom_id, f"ant {text}") for custom_id, text in TEXTS.items()]
    created = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    done = wait_message_batch(client, created.id)
    counts = done.request_counts
    assert (counts.succeeded, counts.errored, counts.canceled, counts.expired) == (4, 2, 0, 0)
    results = {r.custom_id: r.result for r in client.messages.batches.results(created.id)}
    for custom_id in ("ok-1", "ok-2", "flaky", "busy"):
        result = results[custom_id]
        assert result.type == "succeeded"
        assert result.message.content[0].text == f"echo:ant {TEXTS[custom_id]}"  # type: ignore[union-attr]
    broken = results["broken"]
    assert broken.type == "errored"
    assert broken.error.error.type == "api_error"  # type: ignore[union-attr]
    assert "upstream broke on ant BROKEN always" in broken.error.error.message  # type: ignore[union-attr]
    refused = results["refused"]
    assert refused.type == "errored"
    assert refused.error.error.type == "invalid_request_error"  # type: ignore[union-attr]
    assert _calls_per_line(echo, "ant") == _expected_calls()


def test_an_openai_model_behind_a_message_batch_is_retried_too(live: LiveServer, echo: EchoUpstream) -> None:
    client = anthropic_client(live)
    created = client.messages.batches.create(requests=[  # type: ignore[arg-type]
        message_request("flaky", "cross FLAKY", model=CHAT), message_request("broken", "cross BROKEN", model=CHAT)])
    done = wait_message_batch(client, created.id)
    assert (done.request_counts.succeeded, done.request_counts.errored) == (1, 1)
    assert (echo.seen["cross FLAKY"], echo.seen["cross BROKEN"]) == (2, RETRIES + 1)

