"""The hooks the router offers the rate limiter and metrics: a ``DeploymentGate``,
through which per-deployment rate limits (requests and tokens per minute) decide
whether a deployment may take one more request (asked before each attempt, every
pass settled exactly once; the default lets everything through), and an
``AttemptObserver`` told of every attempt an upstream failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from switchyard.core.errors import SwitchyardError
from switchyard.core.usage import Usage


@dataclass(frozen=True, slots=True)
class DeploymentLimits:
    deployment_id: str
    model: str  # the public model name the deployment serves
    rpm: int | None = None
    tpm: int | None = None
    max_concurrency: int | None = None  # also enforced per process by the router itself


class DeploymentsAtLimit(SwitchyardError):
    """Every deployment the request could go to refused it at its own limits (rate or
    concurrency): Switchyard's refusal, not an upstream's; the ledger says ``rate_limited``."""


@dataclass(frozen=True, slots=True)
class GateRefusal:
    """The deployment is at a limit now: the router tries another one."""

    retry_after: float  # seconds until it may have room
    reason: str  # e.g. "requests per minute"


class GatePass(Protocol):
    async def settle(self, usage: Usage | None) -> None:
        """Called once when the attempt ends: the usage the upstream reported (the last
        report), or None when it reported none (the attempt failed, or usage was missing)."""
        ...


class DeploymentGate(Protocol):
    async def admit(self, limits: DeploymentLimits, estimated_tokens: int) -> GatePass | GateRefusal:
        """``estimated_tokens``: the prompt's estimate plus the requested maximum output
        (0 when the gate says it needs no estimate, see ``wants_estimate``)."""
        ...

    @property
    def wants_estimate(self) -> bool:
        """False spares the router counting prompt tokens for ``admit``."""
        ...


class _Settled:
    async def settle(self, usage: Usage | None) -> None:
        return None


class AllowAll:
    """No per-deployment rate limits."""

    _pass = _Settled()

    async def admit(self, limits: DeploymentLimits, estimated_tokens: int) -> GatePass | GateRefusal:
        return self._pass

    @property
    def wants_estimate(self) -> bool:
        return False


class AttemptObserver(Protocol):
    def attempt_failed(self, deployment_id: str, model: str, error: SwitchyardError, retried: bool) -> None:
        """An attempt ended in ``error`` (``retried``: the request went on to another
        deployment). Called on the event loop; must not block."""
        ...
