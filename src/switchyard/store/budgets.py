"""Budget spend, durable and shared by every process: per holder (``project:<id>`` or
``key:<id>``, with ``@YYYY-MM`` for a monthly budget's month or ``@YYYY-MM-DD`` for a daily
budget's day, UTC) what was spent and what is
reserved, and the reservations themselves, keyed by the call so that repeating a reserve,
settle or refund changes nothing.

A reservation is one conditional UPDATE over all its holders (spent + reserved + amount
must stay within each holder's budget); it holds under concurrency on SQLite (whose
writers take the lock at BEGIN) and PostgreSQL (which re-checks the condition on the
row it waited for).

This is the database path of the budget stores (``gateway/budget_store.py``); the in-process
and Redis stores keep reservations elsewhere and use ``durable_spend`` and ``write_spend``
here, the durable copy of each holder's spend."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from switchyard.store.database import Database
from switchyard.store.models import BudgetReservation, BudgetSpend, RequestLogEntry, utcnow


@dataclass(frozen=True, slots=True)
class Holder:
    id: str  # project:<id> | key:<id>, + @YYYY-MM (a month) or @YYYY-MM-DD (a day) of a periodic budget
    budget_nanousd: int


@dataclass(frozen=True, slots=True)
class Spend:
    spent_nanousd: int
    reserved_nanousd: int


class _Refused(Exception):
    pass


PERIOD_FORMATS = {"month": "%Y-%m", "day": "%Y-%m-%d"}  # a budget interval -> its periods' names


def project_holder(project_id: str, period: str | None = None) -> str:
    return f"project:{project_id}" + (f"@{period}" if period else "")


def key_holder(key_id: str, period: str | None = None) -> str:
    return f"key:{key_id}" + (f"@{period}" if period else "")


def period_of(interval: str | None, moment: datetime) -> str | None:
    """The period (UTC) a budget of ``interval`` counts ``moment`` in: ``YYYY-MM`` for
    ``month``, ``YYYY-MM-DD`` for ``day``; None for a lifetime (``total``) budget."""
    shape = PERIOD_FORMATS.get(interval or "")
    return moment.astimezone(UTC).strftime(shape) if shape else None


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """The first instant of ``period`` (``YYYY-MM`` or ``YYYY-MM-DD``, UTC) and of the one after;
    ValueError if malformed."""
    if len(period) == 10:
        day = datetime.strptime(period, "%Y-%m-%d").replace(tzinfo=UTC)
        return day, day + timedelta(days=1)
    start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    after = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, after


class BudgetRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: set[str] = set()  # holders whose row exists
        self._writer_engine: AsyncEngine | None = None
        # SQLite has one writer at a time and makes a waiting connection sleep and retry:
        # this process's own budget writes queue here instead (PostgreSQL locks rows).
        self._writing = asyncio.Lock() if db.dialect == "sqlite" else contextlib.nullcontext()

    async def reserve(self, reservation_id: str, holders: Sequence[Holder], amount: int) -> bool:
        """Reserve ``amount`` (nano-USD) against every holder at once, or none of them.
        True when reserved now or already under this id."""
        await self._ensure(h.id for h in holders)
        spend = BudgetSpend
        fits = or_(*(and_(spend.id == h.id, spend.spent_nanousd + spend.reserved_nanousd + amount <= h.budget_nanousd)
                     for h in holders))
        try:
            # Core on one connection, not an ORM session: this is on the request's path.
            async with self._writing, self._writer().begin() as conn:
                await conn.execute(insert(BudgetReservation).values(
                    id=reservation_id, holders=[h.id for h in holders], amount_nanousd=amount, actual_nanousd=None,
                    state="reserved", created_at=utcnow()))
                result = await conn.execute(
                    update(spend).where(fits).values(reserved_nanousd=spend.reserved_nanousd + amount,
                                                     updated_at=utcnow()))
                if result.rowcount != len(holders):
                    raise _Refused
        except _Refused:
            return False
        except IntegrityError:
            return await self._exists(reservation_id)
        return True

    def _writer(self) -> AsyncEngine:
        """The engine, its SQLite transactions taking the write lock at BEGIN."""
        if self._writer_engine is None:
            self._writer_engine = self._db.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        return self._writer_engine

    async def settle(self, reservation_id: str, actual: int) -> bool:
        """Turn the reservation into ``actual`` spend (0 refunds it); False when it was
        settled before or never made."""
        return await self.settle_many([(reservation_id, actual)]) == 1

    async def settle_many(self, settlements: Sequence[tuple[str, int]]) -> int:
        """Settle several reservations in one transaction; how many were still held."""
        deltas: dict[str, list[int]] = {}  # holder -> [reserved released, spent added]
        settled = 0
        async with self._writing, self._db.session() as session:
            for reservation_id, actual in settlements:
                found = (await session.execute(
                    update(BudgetReservation)
                    .where(BudgetReservation.id == reservation_id, BudgetReservation.state == "reserved")
                    .values(state="settled", actual_nanousd=actual)
                    .returning(BudgetReservation.holders, BudgetReservation.amount_nanousd))).first()
                if found is None:
                    continue
                settled += 1
                for holder in found[0]:
                    delta = deltas.setdefault(holder, [0, 0])
                    delta[0] += int(found[1])
                    delta[1] += actual
            for holder, (released, spent) in deltas.items():
                await session.execute(update(BudgetSpend).where(BudgetSpend.id == holder).values(
                    reserved_nanousd=BudgetSpend.reserved_nanousd - released,
                    spent_nanousd=BudgetSpend.spent_nanousd + spent, updated_at=utcnow()))
        return settled

    async def stale(self, before: datetime, limit: int = 100) -> list[tuple[str, int]]:
        """Reservations still held that were made before ``before``: (id, amount)."""
        async with self._db.session(read_only=True) as session:
            rows = (await session.execute(
                select(BudgetReservation.id, BudgetReservation.amount_nanousd)
                .where(BudgetReservation.state == "reserved", BudgetReservation.created_at < before)
                .limit(limit))).all()
        return [(row[0], int(row[1])) for row in rows]

    async def spend(self, holder: str) -> Spend:
        """Without a budget row yet, what the ledger holds for it."""
        async with self._db.session(read_only=True) as session:
            row = await session.get(BudgetSpend, holder)
            if row is None:
                return Spend(await _ledger_spend(session, holder), 0)
        return Spend(row.spent_nanousd, row.reserved_nanousd)

    async def sweep(self, before: datetime) -> None:
        """Spend every reservation held since before ``before`` as reserved (the worst case):
        its process died mid-call."""
        for reservation_id, amount in await self.stale(before):
            await self.settle(reservation_id, amount)

    async def persist(self) -> None:
        """Nothing waits: every change here is written when it is made."""

    async def aclose(self) -> None:
        """Nothing to release: the database is the app's."""

    async def durable_spend(self, holder: str) -> int:
        """What a holder has durably spent: its row, or what the ledger holds for it if
        that is more (the ledger rows of a crashed process's last batch may have made it
        when its spend did not, and a holder without a row has only the ledger)."""
        async with self._db.session(read_only=True) as session:
            row = await session.get(BudgetSpend, holder)
            ledger = await _ledger_spend(session, holder)
        return max(ledger, 0 if row is None else int(row.spent_nanousd))

    async def write_spend(self, spent: dict[str, int]) -> None:
        """Write each holder's spend as at least ``spent[holder]``, in one transaction.
        Spend only grows, so writes from several processes, in any order, keep the largest."""
        if not spent:
            return
        postgres = self._db.dialect == "postgresql"
        upsert = pg_insert if postgres else sqlite_insert
        larger = func.greatest if postgres else func.max
        async with self._writing, self._db.session() as session:
            for holder, value in sorted(spent.items()):  # one order: no deadlock between processes
                stmt = upsert(BudgetSpend).values(id=holder, spent_nanousd=value, reserved_nanousd=0,
                                                   updated_at=utcnow())
                await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={
                    "spent_nanousd": larger(BudgetSpend.spent_nanousd, stmt.excluded.spent_nanousd),
                    "updated_at": stmt.excluded.updated_at}))

    async def _exists(self, reservation_id: str) -> bool:
        async with self._db.session(read_only=True) as session:
            return await session.get(BudgetReservation, reservation_id) is not None

    async def _ensure(self, holders: Iterable[str]) -> None:
        """A holder's row starts from what the ledger already holds for it, so that a
        budget set on a key that has been spending counts that spending."""
        missing = [h for h in holders if h not in self._known]
        if not missing:
            return
        async with self._db.session() as session:
            for holder in missing:
                spent = await _ledger_spend(session, holder)
                insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
                await session.execute(insert(BudgetSpend).values(
                    id=holder, spent_nanousd=spent, reserved_nanousd=0, updated_at=utcnow()
                ).on_conflict_do_nothing(index_elements=["id"]))
        self._known.update(missing)


async def _ledger_spend(session: AsyncSession, holder: str) -> int:
    kind, _, rest = holder.partition(":")
    ident, _, period = rest.partition("@")
    column = RequestLogEntry.owner_id if kind == "project" else RequestLogEntry.key_id
    query = select(func.coalesce(func.sum(RequestLogEntry.cost_nanousd), 0)).where(column == ident)
    if period:
        start, after = period_bounds(period)
        query = query.where(RequestLogEntry.created_unix >= int(start.timestamp()),
                            RequestLogEntry.created_unix < int(after.timestamp()))
    total = (await session.execute(query)).scalar()
    return int(total or 0)
