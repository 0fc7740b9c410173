"""Helpers for the Assistants tests: a server over the echo upstream (a chat model and
an embedding model, so vector stores made from attachments ingest without the embedded
models), clients of fresh projects, and the SDK types' schemas for raw bodies."""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.beta import Assistant, AssistantDeleted, Thread, ThreadDeleted
from openai.types.beta.threads import Message, MessageDeleted

from tests.fakes.echo_upstream import EchoUpstream
from tests.sdk_schema import assert_valid, validator
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import project_key

CHAT = "gpt-fake"
EMBED = "embed-fake"
BETA = {"OpenAI-Beta": "assistants=v2"}

SCHEMAS: dict[str, Any] = {"assistant": Assistant, "assistant.deleted": AssistantDeleted, "thread": Thread,
                           "thread.deleted": ThreadDeleted, "thread.message": Message,
                           "thread.message.deleted": MessageDeleted}
ALWAYS_PRESENT = {
    Assistant: frozenset({"name", "description", "instructions", "metadata", "tool_resources", "temperature",
                          "top_p", "response_format"}),
    Thread: frozenset({"tool_resources", "metadata"}),
    Message: frozenset({"assistant_id", "attachments", "completed_at", "incomplete_at", "incomplete_details",
                        "metadata", "run_id"}),
}


@functools.cache
def _checker(kind: str) -> Any:
    return validator(SCHEMAS[kind], ALWAYS_PRESENT)


def check_object(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` validated against the SDK type its ``object`` names (and returned)."""
    assert_valid(_checker(body["object"]), body, f"OpenAI {body['object']}")
    return body


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoUpstream]:
    upstream = EchoUpstream()
    upstream.start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream) -> Iterator[LiveServer]:
    models = [
        {"name": CHAT, "provider": "openai", "base_url": echo.url + "/v1", "api_key": "up-key",
         "model": "gpt-upstream", "timeout": 30},
        {"name": EMBED, "provider": "openai", "task": "embedding", "base_url": echo.url + "/v1",
         "api_key": "up-key", "model": "text-embedding-3-small", "timeout": 30},
    ]
    live = LiveServer(tmp_path_factory.mktemp("assistants"), models)
    live.start()
    yield live
    live.stop()


def client(server: LiveServer, key: str = MASTER_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


@pytest.fixture
def key(server: LiveServer, request: pytest.FixtureRequest) -> str:
    """A key of a project of the test's own, so each test sees only its objects."""
    return project_key(server.url, request.node.name[:200])


@pytest.fixture
def oai(server: LiveServer, key: str) -> openai.OpenAI:
    return client(server, key)


@pytest.fixture
def other(server: LiveServer, request: pytest.FixtureRequest) -> openai.OpenAI:
    """A client of another project."""
    return client(server, project_key(server.url, "other " + request.node.name[:190]))


def raw(server: LiveServer, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"authorization": f"Bearer {key}", **BETA},
                         timeout=60, **kwargs)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def upload(oai: openai.OpenAI, name: str, text: str) -> str:
    return oai.files.create(file=(name, io.BytesIO(text.encode())), purpose="assistants").id


def wait_store(oai: openai.OpenAI, store_id: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store = oai.vector_stores.retrieve(store_id)
        if store.file_counts.in_progress == 0:
            return store
        time.sleep(0.1)
    raise AssertionError(f"vector store {store_id} still ingesting")
