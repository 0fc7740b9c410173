"""Any OpenAI-compatible ``/embeddings`` upstream (OpenAI, vLLM, Ollama, TEI, ...).

``base_url`` includes the version prefix, as in the OpenAI SDK: ``https://api.openai.com/v1``.
Vectors are asked for as floats (every compatible server speaks that; some reject base64),
but a base64 answer is decoded all the same.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.providers.base import Embeddings
from switchyard.providers.http_upstream import bearer_endpoint


def _malformed(why: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"Upstream sent a malformed answer: {why}", code="upstream_error")


def _vector(value: Any) -> list[float]:
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError as exc:
            raise _malformed("an embedding is not valid base64") from exc
        if len(raw) % 4:
            raise _malformed("a base64 embedding is not a whole number of float32 values")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if isinstance(value, list) and all(isinstance(x, int | float) for x in value):
        return [float(x) for x in value]
    raise _malformed("an embedding is neither a list of numbers nor base64")


def decode_embeddings(answer: Any, count: int) -> Embeddings:
    """An OpenAI ``CreateEmbeddingResponse`` body as ``Embeddings``, in input order."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or len(data) != count:
        raise _malformed(f"expected {count} embeddings")
    vectors: list[list[float] | None] = [None] * count
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise _malformed("an embedding is not an object")
        index = item.get("index", position)
        if not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None:
            raise _malformed(f"bad embedding index {index!r}")
        vectors[index] = _vector(item.get("embedding"))
    usage = answer.get("usage") or {}
    tokens = usage.get("prompt_tokens", usage.get("total_tokens", 0)) if isinstance(usage, dict) else 0
    return Embeddings(vectors=[v for v in vectors if v is not None], input_tokens=int(tokens or 0))


class OpenAIEmbedder:
    """``dimensions`` is 0 until the first answer tells it (the config does not say)."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.dimensions = 0
        self._client, self._upstream = bearer_endpoint(config, "/embeddings")

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        if not texts:
            return Embeddings(vectors=[], input_tokens=0)
        body: dict[str, Any] = {
            "model": self.config.upstream_model, "input": texts, "encoding_format": "float",
        }
        if dimensions is not None:
            body["dimensions"] = dimensions
        result = decode_embeddings(await self._upstream.post_json(body), len(texts))
        if result.vectors and dimensions is None:
            self.dimensions = len(result.vectors[0])
        return result

    async def aclose(self) -> None:
        await self._client.aclose()
