"""Budget reservations in this process's memory: exact for one process, since the check
and the reservation run with no await between them on the event loop. Each holder starts
from its durable spend (``BudgetRepository.durable_spend``) on first use; spend settled
here is written back in the ledger writer's batches (``persist``) and at a clean shutdown.

What a crash can lose: the reservations in flight (never charged: their calls are cut
off too) and the spend settled since the last batch (``metering.flush_seconds``), whose
ledger rows are in that same batch; the next start takes the larger of the written spend
and the ledger's total."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from switchyard.store.budgets import BudgetRepository, Holder, Spend

SETTLED_REMEMBERED = 100_000  # settled ids kept so that a repeated reserve or settle changes nothing


@dataclass(slots=True)
class _Account:
    spent: int
    reserved: int = 0


class MemoryBudgetStore:
    def __init__(self, repository: BudgetRepository) -> None:
        self._repository = repository
        self._accounts: dict[str, _Account] = {}
        self._held: dict[str, tuple[tuple[str, ...], int]] = {}  # reservation id -> holders, amount
        self._settled: OrderedDict[str, None] = OrderedDict()
        self._dirty: set[str] = set()
        self._loading = asyncio.Lock()

    async def reserve(self, reservation_id: str, holders: Sequence[Holder], amount: int) -> bool:
        missing = [h.id for h in holders if h.id not in self._accounts]
        if missing:
            await self._load(missing)
        if reservation_id in self._held or reservation_id in self._settled:
            return True
        accounts = [self._accounts[h.id] for h in holders]
        if any(a.spent + a.reserved + amount > h.budget_nanousd for a, h in zip(accounts, holders, strict=True)):
            return False
        for account in accounts:
            account.reserved += amount
        self._held[reservation_id] = (tuple(h.id for h in holders), amount)
        return True

    async def settle_many(self, settlements: Sequence[tuple[str, int]]) -> int:
        settled = 0
        for reservation_id, actual in settlements:
            held = self._held.pop(reservation_id, None)
            if held is None:
                continue
            settled += 1
            holders, amount = held
            for holder in holders:
                account = self._accounts[holder]
                account.reserved -= amount
                account.spent += actual
                if actual:
                    self._dirty.add(holder)
            self._settled[reservation_id] = None
            if len(self._settled) > SETTLED_REMEMBERED:
                self._settled.popitem(last=False)
        return settled

    async def spend(self, holder: str) -> Spend:
        account = self._accounts.get(holder)
        if account is None:
            return Spend(await self._repository.durable_spend(holder), 0)
        return Spend(account.spent, account.reserved)

    async def sweep(self, before: datetime) -> None:
        """Nothing: every reservation here belongs to a call of this live process, which
        settles it when it ends."""

    async def persist(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        try:
            await self._repository.write_spend({h: self._accounts[h].spent for h in dirty})
        except BaseException:
            self._dirty |= dirty
            raise

    async def aclose(self) -> None:
        await self.persist()

    async def _load(self, holders: list[str]) -> None:
        async with self._loading:  # one load per holder, however many requests wait for it
            for holder in holders:
                if holder not in self._accounts:
                    self._accounts[holder] = _Account(await self._repository.durable_spend(holder))
