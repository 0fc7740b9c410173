"""The embedded MiniLM: pooling and normalisation, and agreement with an fp32 reference."""

from __future__ import annotations

import numpy as np
import pytest

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.providers.local_embeddings import (
    DIMENSIONS,
    MAX_TOKENS,
    LocalEmbedder,
    MiniLM,
    l2_normalize,
    mean_pool,
)
from tests.providers.minilm_reference import reference_embedding, reference_weights


@pytest.mark.parametrize(
    ("hidden", "mask", "expected"),
    [
        ([[[1.0, 2.0], [3.0, 4.0]]], [[1, 1]], [[2.0, 3.0]]),
        ([[[1.0, 2.0], [100.0, 100.0]]], [[1, 0]], [[1.0, 2.0]]),  # padding ignored
        ([[[2.0, 0.0], [4.0, 0.0], [9.0, 9.0]], [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]],
         [[1, 1, 0], [1, 0, 0]], [[3.0, 0.0], [1.0, 1.0]]),
        ([[[5.0, 5.0]]], [[0]], [[0.0, 0.0]]),  # all padding: zeros, not NaN
    ],
)
def test_mean_pool(hidden: list, mask: list, expected: list) -> None:
    out = mean_pool(np.array(hidden, dtype=np.float32), np.array(mask, dtype=np.int64))
    np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize(
    ("vectors", "expected"),
    [([[3.0, 4.0]], [[0.6, 0.8]]), ([[0.0, -2.0], [1.0, 1.0]], [[0.0, -1.0], [2**-0.5, 2**-0.5]]),
     ([[0.0, 0.0]], [[0.0, 0.0]])],
)
def test_l2_normalize(vectors: list, expected: list) -> None:
    np.testing.assert_allclose(l2_normalize(np.array(vectors, dtype=np.float32)), expected, atol=1e-7)


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM(threads=2)


SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A monkey is playing drums.",
    "Two men pushed carts through the woods.",
]


def test_matches_the_fp32_reference_model(model: MiniLM) -> None:
    weights = reference_weights()
    vectors, _ = model.embed(SENTENCES)
    for ids, vector in zip(model.token_ids(SENTENCES), vectors, strict=True):
        assert float(reference_embedding(ids, weights) @ vector) > 0.99


def test_norms_shape_and_semantics(model: MiniLM) -> None:
    vectors, tokens = model.embed(SENTENCES)
    assert vectors.shape == (5, DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > 0.6
    assert all(similarity[0, 1] > similarity[0, k] + 0.3 for k in (2, 3, 4))
    assert tokens == sum(len(ids) for ids in model.token_ids(SENTENCES))


def test_deterministic_and_independent_of_batch_company(model: MiniLM) -> None:
    alone, _ = model.embed([SENTENCES[2]])
    again, _ = model.embed([SENTENCES[2]])
    batched, _ = model.embed([*SENTENCES, "word " * 300])
    assert np.array_equal(alone, again)
    np.testing.assert_allclose(batched[2], alone[0], atol=1e-5)


def test_truncates_to_the_model_maximum(model: MiniLM) -> None:
    long = "tokens " * 1000
    ids = model.token_ids([long])[0]
    assert len(ids) == MAX_TOKENS and ids[-1] == 102  # [SEP] kept
    _, tokens = model.embed([long, long + "ignored tail"])
    assert tokens == 2 * MAX_TOKENS


async def test_embedder_protocol_and_dimensions(tmp_path) -> None:
    embedder = LocalEmbedder(ModelConfig(name="mini", provider="local", task="embedding"), tmp_path)
    try:
        result = await embedder.embed(["hello", "world"], dimensions=DIMENSIONS)
        assert len(result.vectors) == 2 and len(result.vectors[0]) == DIMENSIONS
        assert result.input_tokens == 6
        with pytest.raises(SwitchyardError) as caught:
            await embedder.embed(["hello"], dimensions=128)
        assert caught.value.param == "dimensions" and caught.value.status == 400
    finally:
        await embedder.aclose()


async def test_path_is_refused_rather_than_ignored(tmp_path) -> None:
    config = ModelConfig(name="mini", provider="local", task="embedding", path="/somewhere/model.onnx")
    embedder = LocalEmbedder(config, tmp_path)
    with pytest.raises(SwitchyardError, match="path"):
        await embedder.embed(["x"])
    await embedder.aclose()
