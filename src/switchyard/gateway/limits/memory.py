"""Limits held in this process's memory: exact for one process (the embedded default).

Requests and tokens are sliding-window logs (every use in the last minute, oldest first),
so a limit of N per minute admits at most N in any 60 seconds, however the calls are spaced.
Nothing here awaits, so each admission is atomic on the event loop."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from switchyard.gateway.limits.model import WINDOW_SECONDS, Bucket, Decision, Reason, Usage, decide

CONCURRENCY_RETRY_SECONDS = 1.0


@dataclass(slots=True)
class _Level:
    requests: deque[float] = field(default_factory=deque)
    tokens: dict[str, tuple[float, int]] = field(default_factory=dict)  # insertion order is time order
    token_sum: int = 0
    leases: set[str] = field(default_factory=set)

    def purge(self, now: float) -> None:
        horizon = now - WINDOW_SECONDS
        while self.requests and self.requests[0] <= horizon:
            self.requests.popleft()
        while self.tokens:
            call_id, (at, amount) = next(iter(self.tokens.items()))
            if at > horizon:
                break
            del self.tokens[call_id]
            self.token_sum -= amount

    def usage(self, now: float) -> Usage:
        requests_reset = self.requests[0] + WINDOW_SECONDS - now if self.requests else 0.0
        first = next(iter(self.tokens.values()), None)
        tokens_reset = first[0] + WINDOW_SECONDS - now if first else 0.0
        return Usage(len(self.requests), self.token_sum, requests_reset, tokens_reset)

    def tokens_free_in(self, now: float, excess: int) -> float:
        """Seconds until ``excess`` tokens have left the window."""
        freed = 0
        for at, amount in self.tokens.values():
            freed += amount
            if freed >= excess:
                return at + WINDOW_SECONDS - now
        return WINDOW_SECONDS

    @property
    def empty(self) -> bool:
        return not (self.requests or self.tokens or self.leases)


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
                if lim.requests_per_minute is not None:
                    level.requests.append(now)
                if lim.tokens_per_minute is not None:
                    level.tokens[call_id] = (now, tokens)
                    level.token_sum += tokens
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
        for bucket in buckets:
            level = self._levels.get(bucket.name)
            if level is None:
                continue
            held = level.tokens.get(call_id)
            if held is not None and tokens is not None:
                level.tokens[call_id] = (held[0], tokens)
                level.token_sum += tokens - held[1]
            level.leases.discard(call_id)
            level.purge(self._clock())
            if level.empty:
                del self._levels[bucket.name]

    async def aclose(self) -> None:
        self._levels.clear()
