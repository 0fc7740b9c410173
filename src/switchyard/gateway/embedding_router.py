"""Where embedding and rerank requests go: public model names (and alias patterns) to
embedders and rerankers, built on first use from the configured models.

- ``task: embedding`` models serve ``/v1/embeddings`` and, by cosine similarity, ``/v1/rerank``.
- ``task: rerank`` models serve only ``/v1/rerank``: ``provider: local`` is the cosine reranker
  over the embedded MiniLM; ``provider: openai`` relays to a Jina/Cohere-shaped ``/rerank``.
- ``task: chat`` models are named in a 400, so that a caller learns why, not just "not found".
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from switchyard.config import ModelConfig, Settings
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.metered_calls import MeteredEmbedder
from switchyard.providers.base import Embedder
from switchyard.providers.rerank import EmbeddingReranker, Reranker

STATE_KEY = "embedding_registry"


def _not_found(name: str) -> SwitchyardError:
    return SwitchyardError(
        ErrorKind.NOT_FOUND, f"The model '{name}' does not exist or you do not have access to it.",
        param="model", code="model_not_found",
    )


def _wrong_task(config: ModelConfig, wanted: str) -> SwitchyardError:
    return invalid(
        f"The model '{config.name}' is a {config.task} model and cannot be used for {wanted}; "
        f"choose a model configured with task: {'embedding' if wanted == 'embeddings' else 'rerank or embedding'}.",
        param="model", code="model_not_supported",
    )


class EmbeddingRegistry:
    def __init__(self, models: list[ModelConfig], data_dir: Path) -> None:
        self._models = {m.name: m for m in models}
        self._aliases = [(a, m) for m in models for a in m.aliases]
        self._data_dir = Path(data_dir)
        self._embedders: dict[str, MeteredEmbedder] = {}
        self._rerankers: dict[str, Reranker] = {}
        self._local: dict[tuple[str | None, int | None], Embedder] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddingRegistry:
        return cls(list(settings.models), settings.data_dir)

    def find(self, name: str) -> ModelConfig | None:
        config = self._models.get(name)
        if config is not None:
            return config
        for pattern, candidate in self._aliases:
            if fnmatch.fnmatchcase(name, pattern):
                return candidate
        return None

    def names(self, task: str) -> list[str]:
        return [m.name for m in self._models.values() if m.task == task]

    def embedder(self, name: str) -> Embedder:
        config = self.find(name)
        if config is None:
            raise _not_found(name)
        if config.task != "embedding":
            raise _wrong_task(config, "embeddings")
        if config.name not in self._embedders:
            self._embedders[config.name] = MeteredEmbedder(self._build_embedder(config), config)
        return self._embedders[config.name]

    def reranker(self, name: str) -> Reranker:
        config = self.find(name)
        if config is None:
            raise _not_found(name)
        if config.task not in ("rerank", "embedding"):
            raise _wrong_task(config, "rerank")
        if config.name not in self._rerankers:
            self._rerankers[config.name] = self._build_reranker(config)
        return self._rerankers[config.name]

    def _build_embedder(self, config: ModelConfig) -> Embedder:
        if config.provider == "local":
            return self._local_embedder(config)
        if config.provider == "openai":
            from switchyard.providers.openai_embeddings import OpenAIEmbedder

            return OpenAIEmbedder(config)
        raise invalid(
            f"The model '{config.name}' uses provider '{config.provider}', which has no embeddings API.",
            param="model", code="model_not_supported",
        )

    def _build_reranker(self, config: ModelConfig) -> Reranker:
        if config.task == "embedding":
            return EmbeddingReranker(self.embedder(config.name))
        if config.provider == "local":
            return EmbeddingReranker(self._local_embedder(config))
        if config.provider == "openai":
            from switchyard.providers.rerank import UpstreamReranker

            return UpstreamReranker(config)
        raise invalid(
            f"The model '{config.name}' uses provider '{config.provider}', which has no rerank API.",
            param="model", code="model_not_supported",
        )

    def _local_embedder(self, config: ModelConfig) -> Embedder:
        """One loaded model per distinct (path, threads), shared by embedding and rerank names."""
        key = (config.path, config.threads)
        if key not in self._local:
            from switchyard.providers.local_embeddings import LocalEmbedder

            self._local[key] = LocalEmbedder(config, self._data_dir)
        return self._local[key]

    async def aclose(self) -> None:
        closing: list[Any] = [
            *self._local.values(), *(e.inner for e in self._embedders.values()), *self._rerankers.values()
        ]
        seen: set[int] = set()
        for backend in closing:
            if id(backend) not in seen:
                seen.add(id(backend))
                await backend.aclose()
        self._embedders.clear()
        self._rerankers.clear()
        self._local.clear()


def registry_for(state: Any, settings: Settings) -> EmbeddingRegistry:
    """The registry cached on ``app.state`` (built on the first request that needs it)."""
    registry = getattr(state, STATE_KEY, None)
    if registry is None:
        registry = EmbeddingRegistry.from_settings(settings)
        setattr(state, STATE_KEY, registry)
    return registry
