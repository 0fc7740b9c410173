"""Decoding upstream embeddings and rerank answers, and the cosine reranker."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.providers.base import Embeddings
from switchyard.providers.openai_embeddings import decode_embeddings
from switchyard.providers.rerank import EmbeddingReranker, cosine, decode_rerank, rank


def _b64(values: list[float]) -> str:
    return base64.b64encode(np.array(values, dtype="<f4").tobytes()).decode()


def test_embeddings_follow_index_not_list_order() -> None:
    answer = {"data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": _b64([0.5])}],
              "usage": {"prompt_tokens": 4, "total_tokens": 4}}
    assert decode_embeddings(answer, 2) == Embeddings(vectors=[[0.5], [2.0]], input_tokens=4)


def test_embeddings_without_usage_or_index() -> None:
    assert decode_embeddings({"data": [{"embedding": [1]}, {"embedding": [2]}]}, 2) == Embeddings(
        vectors=[[1.0], [2.0]], input_tokens=0)


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"data": None},
        {"data": [{"index": 0, "embedding": [1.0]}]},  # one short
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]},  # duplicate
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 5, "embedding": [1.0]}]},
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": ["x"]}]},
        {"data": [{"index": 0, "embedding": [1.0]}, "nope"]},
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": "@@not base64@@"}]},
        {"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": "AAA="}]},  # 2 bytes
    ],
)
def test_malformed_embeddings_are_upstream_errors(answer: object) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_embeddings(answer, 2)
    assert caught.value.status == 502


@pytest.mark.parametrize(
    ("scores", "top_n", "expected"),
    [
        ([0.1, 0.9, 0.5], None, [(1, 0.9), (2, 0.5), (0, 0.1)]),
        ([0.1, 0.9, 0.5], 1, [(1, 0.9)]),
        ([0.5, 0.5, -0.2], 2, [(0, 0.5), (1, 0.5)]),
        ([], None, []),
    ],
)
def test_rank(scores: list[float], top_n: int | None, expected: list) -> None:
    assert rank(scores, top_n) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [([1.0, 0.0], [3.0, 0.0], 1.0), ([1.0, 0.0], [0.0, 2.0], 0.0), ([1.0, 1.0], [-1.0, -1.0], -1.0),
     ([0.0, 0.0], [1.0, 0.0], 0.0)],
)
def test_cosine(a: list[float], b: list[float], expected: float) -> None:
    assert cosine(a, b) == pytest.approx(expected)


class _ArrowEmbedder:
    """Vectors chosen by hand: the query points along x."""

    dimensions = 2
    table = {"q": [2.0, 0.0], "same": [5.0, 0.0], "diagonal": [1.0, 1.0], "opposite": [-1.0, 0.0]}

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        return Embeddings(vectors=[self.table[t] for t in texts], input_tokens=len(texts) * 3)

    async def aclose(self) -> None:
        raise AssertionError("not owned")


async def test_embedding_reranker_scores_by_cosine() -> None:
    reranker = EmbeddingReranker(_ArrowEmbedder())
    result = await reranker.rerank("q", ["opposite", "diagonal", "same"], None)
    assert [i for i, _ in result.results] == [2, 1, 0]
    np.testing.assert_allclose([s for _, s in result.results], [1.0, 2**-0.5, -1.0])
    assert result.input_tokens == 12
    top = await reranker.rerank("q", ["opposite", "diagonal", "same"], 1)
    assert [i for i, _ in top.results] == [2]
    await reranker.aclose()  # does not close an embedder it does not own


@pytest.mark.parametrize(
    ("answer", "results", "tokens"),
    [
        ({"results": [{"index": 0, "relevance_score": 0.2}, {"index": 1, "relevance_score": 0.8}],
          "usage": {"total_tokens": 9}}, [(1, 0.8), (0, 0.2)], 9),
        ({"id": "c", "results": [{"index": 1, "relevance_score": 1}], "meta": {"billed_units": {"search_units": 1}}},
         [(1, 1.0)], 0),
        ({"results": [], "usage": {"prompt_tokens": 3}}, [], 3),
    ],
)
def test_decode_rerank(answer: dict, results: list, tokens: int) -> None:
    decoded = decode_rerank(answer, 2)
    assert decoded.results == results and decoded.input_tokens == tokens


@pytest.mark.parametrize(
    "answer",
    [{}, {"results": "x"}, {"results": [{"index": 2, "relevance_score": 0.1}]},
     {"results": [{"index": 0}]}, {"results": [{"index": "0", "relevance_score": 0.1}]}],
)
def test_malformed_rerank_is_an_upstream_error(answer: dict) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_rerank(answer, 2)
    assert caught.value.status == 502
