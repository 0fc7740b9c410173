"""Sequence slots: each keeps the tokens its KV cache holds, for the next request to reuse.

A request takes the idle slot that shares the longest prefix with its prompt, unless
that prefix is a small part of the prompt (a new conversation that only shares the
chat template's opening): then the least recently used slot is overwritten instead,
so a long conversation's cache survives an unrelated short request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REUSE_FRACTION = 0.5


@dataclass(slots=True)
class Slot:
    seq: int
    tokens: list[int] = field(default_factory=list)  # what the sequence's KV cache holds, in order
    last_used: int = 0
    busy: bool = False


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def choose(slots: list[Slot], prompt: list[int]) -> tuple[Slot, int] | None:
    """The idle slot for ``prompt`` and how many of its cached tokens stay valid."""
    idle = [s for s in slots if not s.busy]
    if not idle:
        return None
    scored = [(common_prefix(s.tokens, prompt), s) for s in idle]
    best, slot = max(scored, key=lambda x: (x[0], -x[1].last_used))
    if best < REUSE_FRACTION * len(prompt):
        best, slot = min(scored, key=lambda x: x[1].last_used)
    return slot, best
