from __future__ import annotations

import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.retrieval.ranking import RRF_K, RankingOptions, fuse, parse_ranking_options, rewrite, search_queries


def test_fusion_rewards_agreement_and_normalises() -> None:
    fused = fuse([([1, 2, 3], 1.0), ([3, 1, 4], 1.0)])
    assert [id for id, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx((1 / (RRF_K + 1) + 1 / (RRF_K + 2)) / (2 / (RRF_K + 1)))
    assert fuse([([7], 1.0), ([7], 1.0)]) == [(7, 1.0)]
    assert all(0 < score <= 1 for _, score in fused)


def test_fusion_weights() -> None:
    assert [id for id, _ in fuse([([1, 2], 1.0), ([2, 1], 3.0)])] == [2, 1]
    assert fuse([([1, 2], 1.0), ([3], 0.0)]) == [(1, 1.0), (2, pytest.approx((RRF_K + 1) / (RRF_K + 2)))]
    assert fuse([]) == []


def test_ranking_options() -> None:
    assert parse_ranking_options(None) == RankingOptions()
    parsed = parse_ranking_options({"ranker": "default-2024-11-15", "score_threshold": 0.5,
                                    "hybrid_search": {"embedding_weight": 2, "text_weight": 0}})
    assert parsed == RankingOptions("default-2024-11-15", 0.5, 2.0, 0.0)


@pytest.mark.parametrize(("options", "param"), [
    ({"ranker": "bm25"}, "ranking_options.ranker"),
    ({"score_threshold": 1.5}, "ranking_options.score_threshold"),
    ({"score_threshold": "high"}, "ranking_options.score_threshold"),
    ({"hybrid_search": {"embedding_weight": 1}}, "ranking_options.hybrid_search.text_weight"),
    ({"hybrid_search": {"embedding_weight": -1, "text_weight": 1}}, "ranking_options.hybrid_search.embedding_weight"),
    ({"hybrid_search": {"embedding_weight": 0, "text_weight": 0}}, "ranking_options.hybrid_search"),
])
def test_bad_ranking_options(options: object, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        parse_ranking_options(options)
    assert caught.value.param == param


def test_rewrite_and_queries() -> None:
    assert rewrite("What is the Capital of France?") == "capital france"
    assert rewrite("to be or not to be") == "to be or not to be"
    assert search_queries("  hello ") == ["hello"]
    assert search_queries(["What is X?", "Y"], rewrite_query=True) == ["x", "y"]
    for bad, param in [([], "query"), ("  ", "query"), (["ok", ""], "query[1]")]:
        with pytest.raises(SwitchyardError) as caught:
            search_queries(bad)
        assert caught.value.param == param
