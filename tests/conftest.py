"""Shared fixtures: scripted fake upstreams of both vendors, a live Switchyard
serving the embedded model and those upstreams, and official SDK clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from tests.fakes.anthropic_wire import refuse_as_anthropic
from tests.fakes.upstream import FakeUpstream
from tests.pg import LazyPgvectorServer
from tests.server import MASTER_KEY, LiveServer

LOCAL = "qwen-local"
VIA_OPENAI = "gpt-fake"
VIA_ANTHROPIC = "claude-fake"
VIA_RESPONSES = "resp-fake"
LOCAL_EMBEDDING = "all-minilm-l6-v2"
VIA_OPENAI_EMBEDDING = "embed-fake"
LOCAL_RERANK = "local-rerank"
VIA_JINA_RERANK = "rerank-fake"


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded model, assembled once from its packages (or a cached copy)."""
    from switchyard.providers.local.model_files import ensure_default_model

    cache = Path(os.environ.get("SWITCHYARD_TEST_CACHE", Path(__file__).parent.parent / ".cache"))
    return ensure_default_model(cache)


@pytest.fixture(scope="session")
def pgvector_admin() -> Iterator[LazyPgvectorServer]:
    """A PostgreSQL server with the pgvector extension for the session, started on first use."""
    server = LazyPgvectorServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeUpstream]:
    fake = FakeUpstream("fake-openai")
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeUpstream]:
    fake = FakeUpstream("fake-anthropic", check=refuse_as_anthropic)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _reset_fakes(request: pytest.FixtureRequest) -> None:
    for name in ("fake_openai", "fake_anthropic"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()


def upstream_models(fake_openai: FakeUpstream, fake_anthropic: FakeUpstream,
                    **extra: object) -> list[dict[str, object]]:
    models: list[dict[str, object]] = [
        {"name": VIA_OPENAI, "provider": "openai", "base_url": fake_openai.url + "/v1",
         "api_key": "upstream-openai-key", "model": "gpt-upstream",
         "aliases": ["gpt-alias-*"], "timeout": 3, "context_window": 3000},
        {"name": VIA_RESPONSES, "provider": "openai-responses", "base_url": fake_openai.url + "/v1",
         "api_key": "upstream-openai-key", "model": "gpt-upstream", "timeout": 3},
        {"name": VIA_ANTHROPIC, "provider": "anthropic", "base_url": fake_anthropic.url,
         "api_key": "upstream-anthropic-key", "model": "claude-upstream",
         "aliases": ["claude-haiku-*"], "timeout": 3},
    ]
    return [{**m, **extra} for m in models]


def embedding_models(fake: FakeUpstream) -> list[dict[str, object]]:
    return [
        {"name": LOCAL_EMBEDDING, "provider": "local", "task": "embedding", "aliases": ["minilm-*"]},
        {"name": VIA_OPENAI_EMBEDDING, "provider": "openai", "task": "embedding",
         "base_url": fake.url + "/v1", "api_key": "upstream-embed-key", "model": "text-embedding-3-small",
         "timeout": 5},
        {"name": LOCAL_RERANK, "provider": "local", "task": "rerank"},
        {"name": VIA_JINA_RERANK, "provider": "openai", "task": "rerank", "base_url": fake.url + "/v1",
         "api_key": "upstream-rerank-key", "model": "jina-reranker-v2-base-multilingual", "timeout": 5},
    ]


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    model_path: Path,
) -> Iterator[LiveServer]:
    models = [{"name": LOCAL, "provider": "local", "path": str(model_path), "context_length": 4096},
              *upstream_models(fake_openai, fake_anthropic), *embedding_models(fake_openai)]
    # The test MCP servers listen on loopback, which the egress policy refuses unless allowlisted.
    live = LiveServer(tmp_path_factory.mktemp("switchyard"), models, stream_keepalive_seconds=1.0,
                      egress_allowlist=["127.0.0.1"])
    live.start(wait_ready=True)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def lenient_server(
    tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream
) -> Iterator[LiveServer]:
    """The upstream models of ``server`` with ``drop_params: true`` (no embedded model)."""
    models = upstream_models(fake_openai, fake_anthropic, drop_params=True)
    live = LiveServer(tmp_path_factory.mktemp("switchyard-lenient"), models, stream_keepalive_seconds=1.0)
    live.start(wait_ready=True)
    yield live
    live.stop()


@pytest.fixture
def oai(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0,
                         timeout=120, _strict_response_validation=True)


@pytest.fixture
def claude(server: LiveServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=MASTER_KEY, max_retries=0,
                               timeout=120, _strict_response_validation=True)
