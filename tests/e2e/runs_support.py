"""What the Assistants runs tests share: a live server on the scripted fake upstream
(no embedded model) whose runs wait only a few seconds for tool outputs, and SDK
clients for it and for a second project."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import project_key

ACTION_SECONDS = 8  # long enough for a loaded machine to submit in time, short enough to see expire
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                            "parameters": {"type": "object",
                                                           "properties": {"city": {"type": "string"}}}}}


@pytest.fixture(scope="module")
def runs_server(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
                fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("switchyard-runs"), upstream_models(fake_openai, fake_anthropic),
                      stream_keepalive_seconds=1.0, assistants_action_seconds=ACTION_SECONDS)
    live.start(wait_ready=True)
    yield live
    live.stop()


def client_for(server: LiveServer, key: str = MASTER_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60,
                         _strict_response_validation=True)


@pytest.fixture
def client(runs_server: LiveServer) -> openai.OpenAI:
    return client_for(runs_server)


@pytest.fixture(scope="module")
def other_client(runs_server: LiveServer) -> openai.OpenAI:
    return client_for(runs_server, project_key(runs_server.url, "runs-other"))


def assistant(client: openai.OpenAI, **kw: Any) -> Any:
    return client.beta.assistants.create(**{"model": VIA_OPENAI, "instructions": "Be brief.", **kw})


def thread_with(client: openai.OpenAI, text: str = "Hi") -> Any:
    return client.beta.threads.create(messages=[{"role": "user", "content": text}])


def wait_run(client: openai.OpenAI, thread_id: str, run_id: str, wanted: set[str], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
    while run.status not in wanted and time.monotonic() < deadline:
        time.sleep(0.1)
        run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
    assert run.status in wanted, f"{run_id} never reached {wanted}; last {run.status}"
    return run


def texts(client: openai.OpenAI, thread_id: str, run_id: str | None = None) -> list[tuple[str, str]]:
    """The thread's messages oldest first, as (role, text)."""
    kw: dict[str, Any] = {"run_id": run_id} if run_id else {}
    page = client.beta.threads.messages.list(thread_id, order="asc", **kw)
    return [(m.role, "".join(c.text.value for c in m.content if c.type == "text")) for m in page.data]
