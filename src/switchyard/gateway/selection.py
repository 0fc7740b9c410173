"""Which deployment takes the next attempt: the best (lowest) priority among those
available, then a weighted random choice within it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol, TypeVar


class Weighted(Protocol):
    @property
    def priority(self) -> int: ...

    @property
    def weight(self) -> float: ...


W = TypeVar("W", bound=Weighted)


def choose(available: Sequence[W], rng: random.Random) -> W | None:
    if len(available) < 2:
        return available[0] if available else None
    best = min(d.priority for d in available)
    group = [d for d in available if d.priority == best]
    if len(group) == 1:
        return group[0]
    point = rng.random() * sum(d.weight for d in group)
    for deployment in group:
        point -= deployment.weight
        if point < 0:
            return deployment
    return group[-1]


def backoff(attempt: int, initial: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before attempt ``attempt`` (2 is the first retry): exponential
    from ``initial``, capped, with jitter (a random half to all of it)."""
    if attempt < 2 or initial <= 0:
        return 0.0
    return float(min(cap, initial * 2 ** (attempt - 2)) * rng.uniform(0.5, 1.0))
