"""Embedding and rerank model names to backends."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from switchyard.config import ModelConfig, Settings
from switchyard.core.errors import SwitchyardError
from switchyard.gateway.embedding_router import EmbeddingRegistry, registry_for
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.providers.openai_embeddings import OpenAIEmbedder
from switchyard.providers.rerank import EmbeddingReranker, UpstreamReranker

MODELS = [
    ModelConfig(name="chat", provider="local"),
    ModelConfig(name="mini", provider="local", task="embedding", aliases=["mini-*"]),
    ModelConfig(name="up", provider="openai", task="embedding", base_url="http://x/v1"),
    ModelConfig(name="claude-embed", provider="anthropic", task="embedding"),
    ModelConfig(name="local-rr", provider="local", task="rerank"),
    ModelConfig(name="jina", provider="openai", task="rerank", base_url="http://x/v1"),
]


@pytest.fixture
async def registry(tmp_path: Path):
    registry = EmbeddingRegistry(MODELS, tmp_path)
    yield registry
    await registry.aclose()


def test_embedders_by_name_and_alias(registry: EmbeddingRegistry) -> None:
    # each embedder is metered (its calls count for the request running them)
    assert isinstance(registry.embedder("mini").inner, LocalEmbedder)
    assert registry.embedder("mini-v2") is registry.embedder("mini")
    assert isinstance(registry.embedder("up").inner, OpenAIEmbedder)


def test_rerankers_share_the_local_model(registry: EmbeddingRegistry) -> None:
    local = registry.reranker("local-rr")
    assert isinstance(local, EmbeddingReranker)
    assert local.embedder is registry.embedder("mini").inner
    by_embedding = registry.reranker("mini")
    assert isinstance(by_embedding, EmbeddingReranker) and by_embedding.embedder is registry.embedder("mini")
    assert isinstance(registry.reranker("jina"), UpstreamReranker)
    assert registry.reranker("jina") is registry.reranker("jina")


@pytest.mark.parametrize(
    ("call", "name", "status"),
    [
        ("embedder", "nope", 404),
        ("embedder", "chat", 400),
        ("embedder", "local-rr", 400),
        ("embedder", "claude-embed", 400),
        ("reranker", "nope", 404),
        ("reranker", "chat", 400),
    ],
)
def test_refusals_name_the_model(registry: EmbeddingRegistry, call: str, name: str, status: int) -> None:
    with pytest.raises(SwitchyardError) as caught:
        getattr(registry, call)(name)
    assert caught.value.status == status
    assert caught.value.param == "model"
    assert name in caught.value.message


def test_names_by_task(registry: EmbeddingRegistry) -> None:
    assert registry.names("embedding") == ["mini", "up", "claude-embed"]
    assert registry.names("rerank") == ["local-rr", "jina"]


async def test_registry_is_cached_on_app_state(tmp_path: Path) -> None:
    state = SimpleNamespace()
    settings = Settings(data_dir=tmp_path, models=MODELS)
    first = registry_for(state, settings)
    assert registry_for(state, settings) is first
    await first.aclose()
