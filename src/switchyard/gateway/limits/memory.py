"""Limits held in this process's memory: exact for one process (the embedded default).

Requests and tokens are counted in slices of ``SLICE_SECONDS``; a slice leaves the window
once all of it is older than a minute, so a limit of N per minute admits at most N in any
60 seconds however the calls are spaced (a use may be held up to one slice longer than its
minute). Memory per level is bounded by the number of slices, not by the request rate.
Nothing here awaits, so each admission is atomic on the event loop."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from switchyard.gateway.limits.model import SLICE_SECONDS, WINDOW_SECONDS, Bucket, Decision, Reason, Usage, decide

CONCURRENCY_RETRY_SECONDS = 1.0
_PRUNE_HELD_PAST = 4096


@dataclass(slots=True)
class _Slice:
    start: float
    requests: int = 0
    tokens: int = 0
    live: bool = True

    @property
    def leaves_at(self) -> float:
        return self.start + SLICE_SECONDS + WINDOW_SECONDS


@dataclass(slots=True)
class _Level:
    slices: deque[_Slice] = field(default_factory=deque)
    request_sum: int = 0
    token_sum: int = 0
    held: dict[str, tuple[_Slice, int]] = field(default_factory=dict)  # tokens of calls not settled yet
    leases: set[str] = field(default_factory=set)
    prune_at: int = _PRUNE_HELD_PAST

    def purge(self, now: float) -> None:
        while self.slices and self.slices[0].leaves_at <= now:
            gone = self.slices.popleft()
            gone.live = False
            self.request_sum -= gone.requests
            self.token_sum -= gone.tokens
        if len(self.held) > self.prune_at:  # calls never settled, whose slices have left the window
            self.held = {k: v for k, v in self.held.items() if v[0].live}
            self.prune_at = max(_PRUNE_HELD_PAST, 2 * len(self.held))

    def take(self, now: float, call_id: str, request: bool, tokens: int | None) -> None:
        last = self.slices[-1] if self.slices else None
        if last is None or now >= last.start + SLICE_SECONDS:
            last = _Slice(math.floor(now / SLICE_SECONDS) * SLICE_SECONDS)
            self.slices.append(last)
        if request:
            last.requests += 1
            self.request_sum += 1
        if tokens is not None:
            last.tokens += tokens
            self.token_sum += tokens
            self.held[call_id] = (last, tokens)

    def settle_tokens(self, call_id: str, tokens: int | None) -> None:
        held = self.held.pop(call_id, None)
        if held is None or tokens is None:
            return
        where, reserved = held
        if where.live:
            where.tokens += tokens - reserved
            self.token_sum += tokens - reserved

    def usage(self, now: float) -> Usage:
        first_request = next((s for s in self.slices if s.requests), None)
        first_tokens = next((s for s in self.slices if s.tokens), None)
        return Usage(self.request_sum, self.token_sum,
                     first_request.leaves_at - now if first_request else 0.0,
                     first_tokens.leaves_at - now if first_tokens else 0.0)

    def tokens_free_in(self, now: float, excess: int) -> float:
        """Seconds until ``excess`` tokens have left the window."""
        freed = 0
        for piece in self.slices:
            freed += piece.tokens
            if freed >= excess:
                return piece.leaves_at - now
        return WINDOW_SECONDS

    @property
    def empty(self) -> bool:
        return not (self.slices or self.held or self.leases)


class MemoryLimitStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._levels: dict[str, _Level] = {}

    async def admit(self, buckets: list[Bucket], call_id: str, tokens: int) -> Decision:
        now = self._clock()
        levels = [self._levels.setdefault(b.name, _Level()) for b in buckets]
        used: list[Usage] = []
        refused: tuple[int, Reason, float] | None = None
        for i, (bucket, level) in enumerate(zip(buckets, levels, strict=True)):
            level.purge(now)
            u = level.usage(now)
            used.append(u)
            if refused is None:
                refused = self._check(i, bucket, level, u, now, tokens)
        if refused is None:
            for bucket, level in zip(buckets, levels, strict=True):
                lim = bucket.limits
                if lim.requests_per_minute is not None or lim.tokens_per_minute is not None:
                    level.take(now, call_id, lim.requests_per_minute is not None,
                               tokens if lim.tokens_per_minute is not None else None)
                if lim.max_concurrent_requests is not None:
                    level.leases.add(call_id)
        return decide(buckets, used, tokens, refused)

    @staticmethod
    def _check(i: int, bucket: Bucket, level: _Level, u: Usage, now: float, tokens: int
               ) -> tuple[int, Reason, float] | None:
        lim = bucket.limits
        if lim.requests_per_minute is not None and u.requests + 1 > lim.requests_per_minute:
            return i, "requests", u.requests_reset if u.requests else WINDOW_SECONDS
        if lim.tokens_per_minute is not None and u.tokens + tokens > lim.tokens_per_minute:
            if tokens > lim.tokens_per_minute:
                return i, "tokens", WINDOW_SECONDS
            return i, "tokens", level.tokens_free_in(now, u.tokens + tokens - lim.tokens_per_minute)
        if lim.max_concurrent_requests is not None and len(level.leases) + 1 > lim.max_concurrent_requests:
            return i, "concurrency", CONCURRENCY_RETRY_SECONDS
        return None

    async def settle(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        self.settle_soon(buckets, call_id, tokens)

    def settle_soon(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        for bucket in buckets:
            level = self._levels.get(bucket.name)
            if level is None:
                continue
            level.settle_tokens(call_id, tokens)
            level.leases.discard(call_id)
            level.purge(self._clock())
            if level.empty:
                del self._levels[bucket.name]

    async def aclose(self) -> None:
        self._levels.clear()
