"""Rerankers: score documents against a query.

Two kinds:

- ``EmbeddingReranker`` — the embedded default. It is *not* a cross-encoder (no packaged one
  exists): it embeds the query and the documents with an ``Embedder`` (the local MiniLM by
  default) and scores each document by the cosine similarity of the two vectors, so
  ``relevance_score`` lies in [-1, 1] (in practice mostly 0..1) and is comparable only within
  one request.
- ``UpstreamReranker`` — a relay to a Jina/Cohere-shaped ``POST {base_url}/rerank``
  (Jina, Cohere v1/v2, Voyage, TEI, vLLM, Infinity...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.providers.base import Embedder
from switchyard.providers.http_upstream import bearer_endpoint


@dataclass(frozen=True, slots=True)
class RerankResult:
    results: list[tuple[int, float]]  # (index into documents, relevance_score), best first
    input_tokens: int


class Reranker(Protocol):
    async def rerank(self, query: str, documents: list[str], top_n: int | None) -> RerankResult: ...

    async def aclose(self) -> None: ...


def rank(scores: list[float], top_n: int | None) -> list[tuple[int, float]]:
    """Indices by descending score (ties keep input order), cut to ``top_n``."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return [(i, scores[i]) for i in order[: top_n if top_n is not None else len(order)]]


def cosine(a: list[float], b: list[float]) -> float:
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return math.fsum(x * y for x, y in zip(a, b, strict=True)) / norms if norms else 0.0


class EmbeddingReranker:
    """Cosine similarity over an embedder's vectors (see the module docstring)."""

    def __init__(self, embedder: Embedder, owns_embedder: bool = False) -> None:
        self.embedder = embedder
        self._owns = owns_embedder

    async def rerank(self, query: str, documents: list[str], top_n: int | None) -> RerankResult:
        embedded = await self.embedder.embed([query, *documents])
        query_vector, *document_vectors = embedded.vectors
        scores = [cosine(query_vector, d) for d in document_vectors]
        return RerankResult(results=rank(scores, top_n), input_tokens=embedded.input_tokens)

    async def aclose(self) -> None:
        if self._owns:
            await self.embedder.aclose()


def _malformed(why: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"Upstream sent a malformed answer: {why}", code="upstream_error")


def decode_rerank(answer: Any, count: int) -> RerankResult:
    """A Jina/Cohere ``{results: [{index, relevance_score}], usage | meta}`` body."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise _malformed("no 'results' list")
    pairs: list[tuple[int, float]] = []
    for item in results:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("relevance_score") if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < count or not isinstance(score, int | float):
            raise _malformed(f"bad result {item!r}")
        pairs.append((index, float(score)))
    pairs.sort(key=lambda p: -p[1])
    usage = answer.get("usage")
    tokens = 0
    if isinstance(usage, dict):
        tokens = usage.get("total_tokens") or usage.get("prompt_tokens") or 0
    return RerankResult(results=pairs, input_tokens=int(tokens))


class UpstreamReranker:
    def __init__(self, config: ModelConfig) -> None:
        if not config.base_url:
            raise SwitchyardError(
                ErrorKind.SERVER, f"rerank model '{config.name}' needs a base_url (e.g. https://api.jina.ai/v1)"
            )
        self.config = config
        self._client, self._upstream = bearer_endpoint(config, "/rerank")

    async def rerank(self, query: str, documents: list[str], top_n: int | None) -> RerankResult:
        # No return_documents: Cohere v2 has no such field, and the gateway has the texts anyway.
        body: dict[str, Any] = {"model": self.config.upstream_model, "query": query, "documents": documents}
        if top_n is not None:
            body["top_n"] = top_n
        result = decode_rerank(await self._upstream.post_json(body), len(documents))
        if top_n is not None:
            return RerankResult(results=result.results[:top_n], input_tokens=result.input_tokens)
        return result

    async def aclose(self) -> None:
        await self._client.aclose()
