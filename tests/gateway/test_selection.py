"""Weighted choice among the best priority, and the backoff between attempts."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import pytest

from switchyard.gateway.selection import backoff, choose


@dataclass(frozen=True)
class Candidate:
    name: str
    priority: int = 0
    weight: float = 1.0


def _counts(candidates: list[Candidate], seed: int, n: int = 4000) -> Counter[str]:
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    for _ in range(n):
        chosen = choose(candidates, rng)
        assert chosen is not None
        counts[chosen.name] += 1
    return counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_share_traffic_within_the_best_priority(seed: int) -> None:
    counts = _counts([Candidate("a", weight=3), Candidate("b", weight=1), Candidate("backup", priority=1)], seed)
    assert set(counts) == {"a", "b"}
    assert 2800 <= counts["a"] <= 3200 and counts["a"] + counts["b"] == 4000


def test_same_seed_same_choices() -> None:
    candidates = [Candidate("a"), Candidate("b"), Candidate("c", weight=2)]
    first = [choose(candidates, rng).name for rng in [random.Random(5)] for _ in range(50)]  # type: ignore[union-attr]
    second = [choose(candidates, rng).name for rng in [random.Random(5)] for _ in range(50)]  # type: ignore[union-attr]
    assert first == second and len(set(first)) == 3


def test_lower_priority_only_when_the_best_is_gone() -> None:
    rng = random.Random(0)
    assert choose([Candidate("backup", priority=2), Candidate("main", priority=1)], rng).name == "main"  # type: ignore[union-attr]
    assert choose([Candidate("backup", priority=2)], rng).name == "backup"  # type: ignore[union-attr]
    assert choose([], rng) is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(9)
    assert backoff(1, 0.1, 1.0, rng) == 0.0
    for attempt, full in [(2, 0.1), (3, 0.2), (4, 0.4), (10, 1.0)]:
        waits = [backoff(attempt, 0.1, 1.0, rng) for _ in range(200)]
        assert all(full / 2 <= w <= full for w in waits)
        assert max(waits) - min(waits) > full / 10  # jittered, not fixed
