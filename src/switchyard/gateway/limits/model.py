"""What a limit check is about: the levels a call is limited at, and what a check found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from switchyard.gateway.auth import Limits

WINDOW_SECONDS = 60.0
SLICE_SECONDS = 0.25  # uses are counted in slices of this width; one leaves the window whole

Reason = Literal["requests", "tokens", "concurrency"]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One level a call counts against (``key:…``, ``project:…``, ``deployment:…``) and its limits."""

    name: str
    limits: Limits

    @property
    def active(self) -> bool:
        lim = self.limits
        return any(v is not None for v in (lim.requests_per_minute, lim.tokens_per_minute,
                                            lim.max_concurrent_requests))


@dataclass(frozen=True, slots=True)
class Window:
    """One dimension (requests or tokens per minute) at one level, as of the check.

    ``reset_seconds``: until ``remaining`` next grows (the oldest use in the window expires)."""

    limit: int
    remaining: int
    reset_seconds: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one admission: the tightest request and token windows over every level,
    and, when refused, why, at which level, and how long until a retry can succeed."""

    allowed: bool
    requests: Window | None = None
    tokens: Window | None = None
    reason: Reason | None = None
    bucket: str | None = None
    retry_after: float = 0.0


@dataclass(frozen=True, slots=True)
class Usage:
    """What one level held before this call: its counts and when each next frees up."""

    requests: int = 0
    tokens: int = 0
    requests_reset: float = 0.0
    tokens_reset: float = 0.0


class LimitStore(Protocol):
    """Where counts live: this process's memory, or Redis shared by every process."""

    async def admit(self, buckets: list[Bucket], call_id: str, tokens: int) -> Decision:
        """Check every bucket, then take a request, ``tokens`` and a concurrency slot from all
        of them, or from none."""
        ...

    async def settle(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        """The call ended: its tokens become ``tokens`` (None keeps the reservation) and its
        concurrency slot is released. Idempotent."""
        ...

    def settle_soon(self, buckets: list[Bucket], call_id: str, tokens: int | None) -> None:
        """``settle``, without waiting for it to land (a shared store sends it with the next
        batch); for callers whose answer must not wait on it. ``aclose`` lands it."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class PairingStore(LimitStore, Protocol):
    """A store for which one more level checked with a call's own costs nothing extra (Redis:
    the same round trip), so a call's first deployment is admitted with it."""

    async def admit_pair(self, buckets: list[Bucket], call_id: str, tokens: int, rider: Bucket, rider_id: str
                         ) -> tuple[Decision, Decision | None]:
        """``admit``; then, only if the call was admitted, ``rider`` admitted on its own as
        ``rider_id`` (its decision; None when the call was refused)."""
        ...

    def cancel_soon(self, buckets: list[Bucket], call_id: str) -> None:
        """Takes an admission that was never used back whole: its request, tokens and slot."""
        ...


def tightest(windows: list[Window]) -> Window | None:
    """The window a client should pace itself by: the fewest remaining, then the longest reset."""
    if not windows:
        return None
    return min(windows, key=lambda w: (w.remaining, -w.reset_seconds))


def decide(buckets: list[Bucket], used: list[Usage], tokens: int, refused: tuple[int, Reason, float] | None
           ) -> Decision:
    """The Decision from each bucket's prior usage (shared by both stores)."""
    taken = 0 if refused else 1
    requests: list[Window] = []
    token_windows: list[Window] = []
    for bucket, u in zip(buckets, used, strict=True):
        lim = bucket.limits
        if lim.requests_per_minute is not None:
            reset = u.requests_reset if u.requests else (WINDOW_SECONDS if taken else 0.0)
            requests.append(Window(lim.requests_per_minute,
                                   max(0, lim.requests_per_minute - u.requests - taken), reset))
        if lim.tokens_per_minute is not None:
            reset = u.tokens_reset if u.tokens else (WINDOW_SECONDS if taken and tokens else 0.0)
            token_windows.append(Window(lim.tokens_per_minute,
                                        max(0, lim.tokens_per_minute - u.tokens - tokens * taken), reset))
    if refused is None:
        return Decision(True, tightest(requests), tightest(token_windows))
    index, reason, retry = refused
    return Decision(False, tightest(requests), tightest(token_windows), reason, buckets[index].name, retry)
