"""Helpers for the batch tests: servers over the echo upstream, input files, polling."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anthropic
import httpx
import openai
import orjson
import pytest

from tests.fakes.echo_upstream import EchoUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.spec import validate_openai
from tests.spec_anthropic import validate_anthropic

CHAT = "gpt-fake"
PRICED = "gpt-priced"  # 1000 USD per million output tokens: max_tokens 10 reserves one cent
CLAUDE = "claude-fake"
EMBED = "embed-fake"
MODERATION = "profanity-check"  # the embedded classifier, also OpenAI's default moderation model here
T = TypeVar("T")


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoUpstream]:
    """The loopback upstream of a batch test module (import it, with ``fresh_echo``)."""
    upstream = EchoUpstream()
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture(autouse=True)
def fresh_echo(echo: EchoUpstream) -> None:
    echo.reset()


def echo_models(upstream: EchoUpstream) -> list[dict[str, Any]]:
    return [
        {"name": CHAT, "provider": "openai", "base_url": upstream.url + "/v1", "api_key": "up-key",
         "model": "gpt-upstream", "timeout": 30},
        {"name": PRICED, "provider": "openai", "base_url": upstream.url + "/v1", "api_key": "up-key",
         "model": "gpt-upstream", "timeout": 30, "price": {"input_per_mtok": "0", "output_per_mtok": "1000"}},
        {"name": CLAUDE, "provider": "anthropic", "base_url": upstream.url, "api_key": "up-key",
         "model": "claude-upstream", "timeout": 30},
        {"name": MODERATION, "provider": "local", "task": "moderation", "aliases": ["omni-moderation-*"]},
        {"name": EMBED, "provider": "openai", "task": "embedding", "base_url": upstream.url + "/v1",
         "api_key": "up-key", "model": "text-embedding-3-small", "timeout": 30},
    ]


def batch_server(workdir: Path, upstream: EchoUpstream, **settings: Any) -> LiveServer:
    batches = {"concurrency_per_batch": 3, "concurrency_per_model": 4, "progress_log_every": 5,
               "lease_seconds": 3, **settings.pop("batches", {})}
    settings.setdefault("metering", {"flush_seconds": 0.05})
    return LiveServer(workdir, echo_models(upstream), batches=batches, **settings)


def start(server: LiveServer) -> LiveServer:
    """Starts ``server`` (patiently: the machine may be busy), stopping it again if it never
    gets ready, so no process is left behind."""
    try:
        server.start(wait_ready=True, timeout=180)
    except BaseException:
        server.stop()
        raise
    return server


def openai_client(server: LiveServer, key: str = MASTER_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def anthropic_client(server: LiveServer, key: str = MASTER_KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0, timeout=60,
                               _strict_response_validation=True)


def raw(server: LiveServer, method: str, path: str, key: str = MASTER_KEY, **kwargs: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}", "anthropic-version": "2023-06-01"}
    return httpx.request(method, server.url + path, headers=headers, timeout=30, **kwargs)


def chat_line(custom_id: str, text: str, **body: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": CHAT, "messages": [{"role": "user", "content": text}], **body}}


def upload(client: openai.OpenAI, lines: list[Any], *, purpose: str = "batch") -> str:
    data = b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines)
    return client.files.create(file=("input.jsonl", io.BytesIO(data)), purpose=purpose).id  # type: ignore[arg-type]


def wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last {value!r}")
        time.sleep(0.1)


def wait_batch(client: openai.OpenAI, batch_id: str, statuses: set[str], timeout: float = 60) -> Any:
    batch = wait_for(lambda: client.batches.retrieve(batch_id), lambda b: b.status in statuses, timeout)
    validate_openai(raw_batch(client, batch_id), "Batch")
    return batch


def raw_batch(client: openai.OpenAI, batch_id: str) -> dict[str, Any]:
    return client.batches.with_raw_response.retrieve(batch_id).http_response.json()  # type: ignore[no-any-return]


def file_lines(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    content = client.files.content(file_id).content
    return [orjson.loads(line) for line in content.splitlines() if line.strip()]


def wait_message_batch(client: anthropic.Anthropic, batch_id: str, timeout: float = 60) -> Any:
    batch = wait_for(lambda: client.messages.batches.retrieve(batch_id),
                     lambda b: b.processing_status == "ended", timeout)
    body = client.messages.batches.with_raw_response.retrieve(batch_id).http_response.json()
    validate_anthropic(body, "MessageBatch")
    return batch


def message_request(custom_id: str, text: str, model: str = CLAUDE, **params: Any) -> dict[str, Any]:
    return {"custom_id": custom_id,
            "params": {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **params}}
