"""Admission: which levels a call counts against, and the one check over all of them."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.auth import Limits, Principal
from switchyard.gateway.limits.call_ids import new_call_id
from switchyard.gateway.limits.model import Bucket, Decision, LimitStore, PairingStore

log = logging.getLogger(__name__)

_REASON_TEXT = {
    "requests": "requests per minute (RPM)",
    "tokens": "tokens per minute (TPM)",
    "concurrency": "concurrent requests",
}


def _rider_id(call_id: str) -> str:
    """The id of a call's early deployment admission (never a call id: those are hex)."""
    return call_id + "-d"


class RateLimited(SwitchyardError):
    """A 429 whose decision the surfaces turn into their vendor's rate-limit headers."""

    def __init__(self, decision: Decision, requested_tokens: int) -> None:
        reason = decision.reason or "requests"
        retry = max(1, math.ceil(decision.retry_after))
        message = (f"Rate limit reached for {_REASON_TEXT[reason]} on {decision.bucket}. "
                   f"Please try again in {retry}s.")
        if reason == "tokens" and decision.tokens is not None and requested_tokens > decision.tokens.limit:
            message = (f"Request too large for {_REASON_TEXT[reason]} on {decision.bucket}: "
                       f"Limit {decision.tokens.limit}, Requested {requested_tokens}.")
        super().__init__(ErrorKind.RATE_LIMIT, message, code="rate_limit_exceeded", retry_after=str(retry))
        self.decision = decision


def merged(own: Limits, fallback: Limits) -> Limits:
    """Each limit set on the key or project itself, else the configured default."""
    return Limits(
        own.requests_per_minute if own.requests_per_minute is not None else fallback.requests_per_minute,
        own.tokens_per_minute if own.tokens_per_minute is not None else fallback.tokens_per_minute,
        own.max_concurrent_requests if own.max_concurrent_requests is not None
        else fallback.max_concurrent_requests,
    )


@dataclass(slots=True)
class EarlyPass:
    """A deployment's admission made in its call's round trip (``PairingStore``), waiting for
    the router's gate to take it (``limits/deployments.py``)."""

    store: PairingStore
    bucket: Bucket
    call_id: str
    decision: Decision


@dataclass(slots=True)
class Admission:
    """One admitted call: what it reserved and where; ``finish`` settles it (once), and
    takes back an early deployment admission nobody used."""

    store: LimitStore
    buckets: list[Bucket]
    call_id: str
    reserved: int
    decision: Decision
    done: bool = field(default=False)
    early: EarlyPass | None = None

    def take_early(self, bucket: Bucket) -> EarlyPass | None:
        """The early admission of ``bucket``, once."""
        early = self.early
        if early is None or early.bucket != bucket:
            return None
        self.early = None
        return early

    async def finish(self, used_tokens: int | None) -> None:
        """The call ended; ``used_tokens`` (None if unknown: the reservation stands)."""
        if self.done:
            return
        self.done = True
        early, self.early = self.early, None
        if early is not None and early.decision.allowed:
            early.store.cancel_soon([early.bucket], early.call_id)  # lands with the settlement below
        await self.store.settle(self.buckets, self.call_id, used_tokens)


class Limiter:
    def __init__(self, store: LimitStore, *, key_defaults: Limits | None = None,
                 project_defaults: Limits | None = None) -> None:
        self.store = store
        self._pairing = store if isinstance(store, PairingStore) else None
        self._key_defaults = key_defaults or Limits()
        self._project_defaults = project_defaults or Limits()

    def buckets(self, principal: Principal, model: str) -> list[Bucket]:
        key_name = principal.key_id or ("master" if principal.is_master else principal.owner_id)
        levels = [
            Bucket(f"key:{key_name}", merged(principal.key_limits, self._key_defaults)),
            Bucket(f"project:{principal.owner_id}", merged(principal.project_limits, self._project_defaults)),
        ]
        per_model: Mapping[str, Limits] = getattr(principal, "project_model_limits", None) or {}
        if model in per_model:
            levels.append(Bucket(f"project-model:{principal.owner_id}:{model}", per_model[model]))
        return [b for b in levels if b.active]

    @property
    def pairs(self) -> bool:
        """Whether ``admit`` takes a ``rider`` (the store checks it in the same round trip)."""
        return self._pairing is not None

    async def admit(self, principal: Principal, model: str, tokens: int, rider: Bucket | None = None
                    ) -> Admission | None:
        """The call's admission, reserving ``tokens``, or None when no limit applies; raises
        ``RateLimited``. ``rider``: the deployment the call will ask first, admitted in the
        same step when the store pairs admissions (``Admission.early``)."""
        buckets = self.buckets(principal, model)
        if not buckets:
            return None
        call_id = new_call_id()
        pairing = self._pairing if rider is not None else None
        early: Decision | None = None
        try:
            if pairing is None or rider is None:
                decision = await self.store.admit(buckets, call_id, tokens)
            else:
                decision, early = await pairing.admit_pair(buckets, call_id, tokens, rider, _rider_id(call_id))
        except Exception:
            # Fail open: an unreachable Redis must not take the API down with it.
            log.warning("rate limits unavailable; admitting %s unchecked", model, exc_info=True)
            return None
        if not decision.allowed:
            raise RateLimited(decision, tokens)
        admission = Admission(self.store, buckets, call_id, tokens, decision)
        if early is not None and pairing is not None and rider is not None:
            admission.early = EarlyPass(pairing, rider, _rider_id(call_id), early)
        return admission

    async def aclose(self) -> None:
        await self.store.aclose()
