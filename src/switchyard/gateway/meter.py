"""One API request's usage: the model calls it made (model turns, embedding calls), how
each ended, and how the request itself ended. When both the answer is out and every call
has ended, the request becomes one ledger entry.

Outcomes, worst first (a request takes the worst of its calls):
``insufficient_quota`` (refused by a budget), ``rate_limited`` (refused by a rate limit
before it started), ``upstream_error`` (the backend failed,
before or mid-stream), ``error`` (any other error answer), ``client_disconnected`` (the
client left before the answer was out; a background run that was cancelled is
``cancelled``), ``completed``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from switchyard.config import MeteringConfig, Price
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.usage import Usage
from switchyard.gateway.budgets import Budgets
from switchyard.gateway.call_scope import CallScope
from switchyard.store.ledger import LedgerEntry

OUTCOME_RANK = {
    "insufficient_quota": 0,
    "rate_limited": 0,
    "upstream_error": 1,
    "error": 2,
    "client_disconnected": 3,
    "cancelled": 3,
    "completed": 9,
}

_REFUSED = frozenset({"insufficient_quota", "rate_limited"})  # calls that never reached a backend


@dataclass(slots=True)
class Call:
    """One model call of a request."""

    id: str  # <request id>:<n>, also the budget reservation's key
    kind: str  # completions | embeddings
    model: str
    deployment: str | None = None
    usage: Usage = field(default_factory=Usage)
    counted: bool = False  # usage counted here, the backend reported none
    cost_nanousd: int = 0
    outcome: str = "completed"
    error_code: str | None = None
    reserved: bool = False
    ended: bool = False


Settle = Callable[[Call], None]
Write = Callable[[LedgerEntry], None]


class Meter:
    def __init__(self, scope: CallScope, *, budgets: Budgets, config: MeteringConfig, settle: Settle,
                 write: Write, left_outcome: str = "client_disconnected") -> None:
        self.scope = scope
        self.config = config
        self._budgets = budgets
        self._settle = settle
        self._write = write
        self._left_outcome = left_outcome  # what a call cut short by the caller leaving is
        self._calls: list[Call] = []  # ended, not yet written
        self._running: list[Call] = []
        self._opened = 0
        self._open = 0
        self._ttft: float | None = None
        self._status: int | None = None
        self._answered = False
        self._client_left = False

    @property
    def left_outcome(self) -> str:
        return self._left_outcome

    @property
    def idle(self) -> bool:
        """No call is running and at least one ran: the cost so far is final."""
        return self._open == 0 and bool(self._calls)

    @property
    def cost_nanousd(self) -> int:
        return sum(c.cost_nanousd for c in self._calls)

    def open_call(self, kind: str, model: str) -> Call:
        self._opened += 1
        self._open += 1
        call = Call(f"{self.scope.request_id}:{self._opened}", kind, model)
        self._running.append(call)
        return call

    def note_deployment(self, deployment: str) -> None:
        """The deployment serving the latest running call."""
        if self._running:
            self._running[-1].deployment = deployment

    async def reserve(self, call: Call, price: Price, worst_case: Callable[[], int]) -> None:
        """Reserve the call's worst case (nano-USD, worked out only when a budget applies)
        against the caller's budgets; raises ``insufficient_quota`` when it does not fit."""
        if price.free:
            return
        holders = self._budgets.holders(self.scope.principal)
        if not holders:
            return
        try:
            await self._budgets.reserve(call.id, holders, worst_case())
        except SwitchyardError as error:
            call.outcome = "insufficient_quota" if error.kind is ErrorKind.QUOTA else "error"
            call.error_code = error.code
            raise
        call.reserved = True

    def first_token(self) -> None:
        if self._ttft is None:
            self._ttft = time.monotonic()

    def end_call(self, call: Call) -> None:
        """Idempotent; settles the call's reservation and writes the request once its answer
        is out too."""
        if call.ended:
            return
        call.ended = True
        if call.deployment is None:
            call.deployment = self.scope.deployment_id  # the router records who answered there
        self._open -= 1
        self._running.remove(call)
        self._calls.append(call)
        if call.reserved:
            self._settle(call)
        self._maybe_write()

    def answered(self, status: int | None, *, client_left: bool = False) -> None:
        """The answer is out (or the client left before it was)."""
        self._status = status
        self._client_left = client_left
        self._answered = True
        self._maybe_write()

    def flush(self) -> None:
        """Write what there is now (at shutdown), whether or not calls are still running."""
        self._answered = True
        if self._calls:
            self._write(self._entry())
            self._calls = []

    @property
    def pending(self) -> bool:
        return bool(self._calls) or self._open > 0

    def _maybe_write(self) -> None:
        if self._answered and self._open == 0 and self._calls:
            self._write(self._entry())
            self._calls = []  # a call that starts after this one makes an entry of its own

    def _entry(self) -> LedgerEntry:
        calls = self._calls
        kind = calls[0].kind
        same = [c for c in calls if c.kind == kind]
        usage = Usage()
        for c in same:
            usage = usage.add(c.usage)
        outcome = min((c.outcome for c in calls), key=lambda o: OUTCOME_RANK.get(o, 2))
        if self._client_left and OUTCOME_RANK[outcome] > OUTCOME_RANK[self._left_outcome]:
            outcome = self._left_outcome
        if outcome == "completed" and self._status is not None and self._status >= 400:
            outcome = "error"
        now = time.monotonic()
        started = self.scope.started
        principal = self.scope.principal
        return LedgerEntry(
            request_id=self.scope.request_id, owner_id=principal.owner_id, key_id=principal.key_id, kind=kind,
            surface=self.scope.surface, model=calls[0].model,
            deployment=next((c.deployment for c in reversed(calls) if c.deployment), None),
            status=self._status, outcome=outcome,
            error_code=next((c.error_code for c in calls if c.error_code), None),
            model_requests=sum(c.outcome not in _REFUSED for c in same), input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens, cache_write_tokens=usage.cache_creation_input_tokens,
            output_tokens=usage.output_tokens, reasoning_tokens=usage.reasoning_tokens,
            usage_counted=any(c.counted for c in same), cost_nanousd=sum(c.cost_nanousd for c in calls),
            latency_ms=round((now - started) * 1000),
            ttft_ms=None if self._ttft is None else round((self._ttft - started) * 1000),
        )
