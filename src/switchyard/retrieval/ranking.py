"""Ranking: ranking options, query rewriting, and reciprocal-rank fusion.

Hybrid search ranks chunks by weighted reciprocal-rank fusion over the ranked lists
of every query (one vector list and one full-text list each):
``score(c) = Σ weight / (RRF_K + rank of c in the list)``, divided by the score of
a chunk ranked first in every list, so scores lie in 0..1 (1 = first everywhere).

``rewrite_query`` is a light, deterministic rewrite (no model call): lowercase,
punctuation and English stop-words dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from switchyard.core.errors import invalid

RRF_K = 60
RANKERS = ("auto", "default-2024-11-15", "none")
# Weights of the vector and the full-text lists in the fusion; measured in bench/retrieval.py.
EMBEDDING_WEIGHT = 1.0
TEXT_WEIGHT = 1.0
_STOP_WORDS_TEXT = """
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD = re.compile(r"\w+")

Ranker = Literal["auto", "default-2024-11-15", "none"]


@dataclass(frozen=True, slots=True)
class RankingOptions:
    ranker: Ranker = "auto"
    score_threshold: float = 0.0
    embedding_weight: float = EMBEDDING_WEIGHT
    text_weight: float = TEXT_WEIGHT


def _number(value: object, param: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"'{param}' must be a number.", param)
    return float(value)


def _weights(hybrid: object, param: str) -> tuple[float, float]:
    if not isinstance(hybrid, dict):
        raise invalid(f"'{param}' must be an object.", param)
    weights = []
    for name in ("embedding_weight", "text_weight"):
        if name not in hybrid:
            raise invalid(f"Missing required parameter: '{param}.{name}'.", f"{param}.{name}")
        weight = _number(hybrid[name], f"{param}.{name}")
        if weight < 0:
            raise invalid(f"'{param}.{name}' cannot be negative.", f"{param}.{name}")
        weights.append(weight)
    if not any(weights):
        raise invalid(f"'{param}' needs a weight above 0.", param)
    return weights[0], weights[1]


def parse_ranking_options(options: object, param: str = "ranking_options") -> RankingOptions:
    """Validated ``ranking_options`` (None gives the defaults); 400 naming the field."""
    if options is None:
        return RankingOptions()
    if not isinstance(options, dict):
        raise invalid(f"'{param}' must be an object.", param)
    ranker = options.get("ranker") or "auto"
    if ranker not in RANKERS:
        raise invalid(f"'{param}.ranker' must be one of {', '.join(RANKERS)}; got {ranker!r}.", f"{param}.ranker")
    threshold = 0.0
    if options.get("score_threshold") is not None:
        threshold = _number(options["score_threshold"], f"{param}.score_threshold")
        if not 0 <= threshold <= 1:
            raise invalid(f"'{param}.score_threshold' must be between 0 and 1.", f"{param}.score_threshold")
    embedding_weight, text_weight = EMBEDDING_WEIGHT, TEXT_WEIGHT
    if options.get("hybrid_search") is not None:
        embedding_weight, text_weight = _weights(options["hybrid_search"], f"{param}.hybrid_search")
    return RankingOptions(ranker, threshold, embedding_weight, text_weight)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def keywords(text: str) -> list[str]:
    """The query's words less stop-words (all of them when only stop-words are left)."""
    found = words(text)
    kept = [word for word in found if word not in STOP_WORDS]
    return kept or found


def rewrite(query: str) -> str:
    """The rewritten query: lowercase keywords separated by spaces."""
    return " ".join(keywords(query)) or query.strip()


def search_queries(query: str | Sequence[str], rewrite_query: bool = False, param: str = "query") -> list[str]:
    """The queries to run (what OpenAI reports as ``search_query``); 400 for an empty
    query or list."""
    queries = [query] if isinstance(query, str) else list(query)
    if not queries:
        raise invalid(f"'{param}' cannot be an empty array.", param)
    for index, text in enumerate(queries):
        where = param if isinstance(query, str) else f"{param}[{index}]"
        if not isinstance(text, str) or not text.strip():
            raise invalid(f"'{where}' must be a non-empty string.", where)
    return [rewrite(text) for text in queries] if rewrite_query else [text.strip() for text in queries]


def fuse(ranked_lists: Sequence[tuple[Sequence[int], float]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion of ``(ids best first, weight)`` lists: ids with
    a score above 0, best first, scores normalised to 0..1 (ties keep first-seen order)."""
    best = sum(weight for _, weight in ranked_lists) / (k + 1)
    scores: dict[int, float] = {}
    for ids, weight in ranked_lists:
        for rank, id in enumerate(ids, start=1):
            scores[id] = scores.get(id, 0.0) + weight / (k + rank)
    if best <= 0:
        return []
    fused = [(id, min(1.0, score / best)) for id, score in scores.items() if score > 0]
    fused.sort(key=lambda pair: pair[1], reverse=True)
    return fused
