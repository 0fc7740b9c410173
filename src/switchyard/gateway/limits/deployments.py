"""Per-deployment rate limits for the router (``DeploymentGate`` in ``gateway/deployment_gate.py``):
requests and tokens per minute and concurrent calls of one deployment, held in the same
store as every other limit, so they too are exact across processes with ``redis_url``.

With Redis, a model with one deployment has that deployment admitted together with its call
(``sole_deployment``; one round trip instead of two): the gate then takes that decision
instead of asking the store, and a decision nobody took is taken back when the call ends."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from switchyard.core.usage import Usage
from switchyard.gateway.auth import Limits
from switchyard.gateway.limits.call_ids import new_call_id
from switchyard.gateway.limits.model import Bucket, Decision, LimitStore
from switchyard.gateway.telemetry.metrics import Metrics
from switchyard.gateway.telemetry.request_trace import current_trace

log = logging.getLogger(__name__)

_REASON_TEXT = {"requests": "requests per minute", "tokens": "tokens per minute",
                "concurrency": "concurrent requests"}


class DeploymentLimitsLike(Protocol):
    """``gateway/deployment_gate.py:DeploymentLimits``."""

    @property
    def deployment_id(self) -> str: ...
    @property
    def rpm(self) -> int | None: ...
    @property
    def tpm(self) -> int | None: ...
    @property
    def max_concurrency(self) -> int | None: ...


class _Pass:
    __slots__ = ("_buckets", "_call_id", "_done", "_store")

    def __init__(self, store: LimitStore, buckets: list[Bucket], call_id: str) -> None:
        self._store, self._buckets, self._call_id, self._done = store, buckets, call_id, False

    async def settle(self, usage: Usage | None) -> None:
        """Not awaited to the store: the answer this attempt produced need not wait for it."""
        if self._done:
            return
        self._done = True
        self._store.settle_soon(self._buckets, self._call_id, usage.total_tokens if usage is not None else None)


class _Free:
    async def settle(self, usage: Usage | None) -> None:
        return None


def deployment_bucket(limits: DeploymentLimitsLike) -> Bucket:
    return Bucket(f"deployment:{limits.deployment_id}", Limits(limits.rpm, limits.tpm, limits.max_concurrency))


def sole_deployment(provider: object, store: LimitStore) -> Bucket | None:
    """The limits of the deployment a call to ``provider`` asks first, when it is known before
    the call starts (the model has one deployment) and this store's gate guards it."""
    gate = getattr(provider, "gate", None)
    if not isinstance(gate, StoreDeploymentGate) or gate.store is not store:
        return None
    deployments: tuple[Any, ...] = getattr(provider, "deployments", ())
    if len(deployments) != 1:
        return None
    bucket = deployment_bucket(deployments[0].limits)
    return bucket if bucket.active else None


class StoreDeploymentGate:
    """The router asks before each attempt on a deployment; a refusal sends it elsewhere."""

    def __init__(self, store: LimitStore, metrics: Metrics | None = None) -> None:
        self._store = store
        self._metrics = metrics
        self._free = _Free()

    @property
    def store(self) -> LimitStore:
        return self._store

    @property
    def wants_estimate(self) -> bool:
        """No: the router would run the tokenizer over every prompt; the turn's cheap estimate
        (characters / 4, made by ``turn_watch``) is read from the call instead."""
        return False

    async def admit(self, limits: DeploymentLimitsLike, estimated_tokens: int) -> Any:
        bucket = deployment_bucket(limits)
        if not bucket.active:
            return self._free
        trace = current_trace()
        admission = trace.admission if trace is not None else None
        early = admission.take_early(bucket) if admission is not None else None
        if early is not None:
            call_id, decision = early.call_id, early.decision
        else:
            call_id = new_call_id()
            tokens = estimated_tokens or (trace.turn_tokens if trace is not None else 0)
            try:
                decision = await self._store.admit([bucket], call_id, tokens)
            except Exception:
                log.warning("rate limits unavailable; deployment %s admitted unchecked", limits.deployment_id,
                            exc_info=True)
                return self._free
        return self._decided(bucket, call_id, decision)

    def _decided(self, bucket: Bucket, call_id: str, decision: Decision) -> Any:
        from switchyard.gateway.deployment_gate import GateRefusal  # routing's type

        if decision.allowed:
            return _Pass(self._store, [bucket], call_id)
        reason = decision.reason or "requests"
        if self._metrics is not None:
            self._metrics.observe_rejection("deployment", reason)
        return GateRefusal(retry_after=decision.retry_after, reason=_REASON_TEXT[reason])
