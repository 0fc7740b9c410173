"""Budgets per key and per project: reserve the worst case before a call, settle to what it
really cost after (a refund is a settle to 0). Each reservation is keyed by the call, so
repeating any step changes nothing. Where reservations are kept (this process's memory,
Redis or the database) is the store's business (``gateway/budget_store.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from switchyard.config import MeteringConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.auth import Principal
from switchyard.gateway.budget_store import BudgetStore
from switchyard.gateway.prices import usd_to_nano
from switchyard.store.budgets import Holder, key_holder, period_of, project_holder


def over_budget(holders: list[Holder]) -> SwitchyardError:
    named = " and ".join(h.id.replace(":", " ", 1) for h in holders)
    return SwitchyardError(
        ErrorKind.QUOTA,
        f"You exceeded your current quota: the budget of {named} does not cover this request's "
        "worst-case cost (its prompt and max output tokens at the model's price).",
        code="insufficient_quota",
    )


class Budgets:
    def __init__(self, store: BudgetStore, config: MeteringConfig,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self._config = config
        self._clock = clock

    def holders(self, principal: Principal) -> list[Holder]:
        """The budgets the caller's spending counts against: the key's and the project's,
        as stored with the key (a monthly one counts this calendar month, a daily one this
        day, UTC), else as configured (lifetime totals)."""
        found: list[Holder] = []
        now = self._clock()
        key_budget = principal.key_budget_usd
        key_period = period_of(principal.key_budget_interval, now) if key_budget is not None else None
        if key_budget is None and principal.key_id is not None:
            key_budget = self._config.key_budgets_usd.get(principal.key_id)
        if key_budget is not None and principal.key_id is not None:
            found.append(Holder(key_holder(principal.key_id, key_period), _nano(key_budget)))
        project_budget = principal.project_budget_usd
        project_period = period_of(principal.project_budget_interval, now) if project_budget is not None else None
        if project_budget is None:
            project_budget = self._config.project_budgets_usd.get(principal.owner_id)
        if project_budget is not None:
            found.append(Holder(project_holder(principal.owner_id, project_period), _nano(project_budget)))
        return found

    def period(self, interval: str | None) -> str | None:
        """The period a budget of ``interval`` counts now (None for a lifetime budget)."""
        return period_of(interval, self._clock())

    async def reserve(self, reservation_id: str, holders: list[Holder], amount_nanousd: int) -> None:
        """Raises ``insufficient_quota`` when any holder's budget cannot take ``amount``."""
        if not await self.store.reserve(reservation_id, holders, amount_nanousd):
            raise over_budget(holders)

    async def settle_many(self, settlements: list[tuple[str, int]]) -> None:
        await self.store.settle_many(settlements)


def _nano(usd: Decimal) -> int:
    return usd_to_nano(usd)
