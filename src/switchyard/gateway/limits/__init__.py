"""Rate limits: requests, tokens and concurrent calls per key, project, project and model,
and deployment; in this process's memory or, with ``redis_url``, in Redis."""

from __future__ import annotations

from switchyard.gateway.auth import Limits
from switchyard.gateway.limits.limiter import Admission, Limiter, RateLimited
from switchyard.gateway.limits.memory import MemoryLimitStore
from switchyard.gateway.limits.model import Bucket, Decision, LimitStore

__all__ = ["Admission", "Bucket", "Decision", "LimitStore", "Limiter", "Limits", "MemoryLimitStore",
           "RateLimited", "build_store"]


def build_store(redis_url: str | None, *, prefix: str, lease_seconds: float) -> LimitStore:
    if redis_url:
        from switchyard.gateway.limits.redis_store import RedisLimitStore

        return RedisLimitStore(redis_url, prefix=prefix, lease_seconds=lease_seconds)
    return MemoryLimitStore()
