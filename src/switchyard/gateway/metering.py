"""Metering: each API request (or background run) gets a ``Meter``, reachable from
wherever its model calls run through a context variable; ended calls settle their budget
reservations in the background, and finished requests go to the ledger in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from switchyard.config import MeteringConfig
from switchyard.gateway.auth import Principal
from switchyard.gateway.budget_store import build_budget_store
from switchyard.gateway.budgets import Budgets
from switchyard.gateway.call_scope import CallScope, current_scope, entered, new_request_id
from switchyard.gateway.grants import GuardrailPolicy
from switchyard.gateway.ledger_writer import LedgerWriter
from switchyard.gateway.meter import Call, Meter
from switchyard.gateway.usage_report import UsageQuery, usage_page
from switchyard.store.budgets import Spend
from switchyard.store.database import Database
from switchyard.store.ledger import LedgerEntry, LedgerFilter, RequestLog

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 300.0

_current: ContextVar[Meter | None] = ContextVar("switchyard_meter", default=None)


def current_meter() -> Meter | None:
    return _current.get()


@contextlib.contextmanager
def metering(meter: Meter) -> Iterator[Meter]:
    """Model calls made inside (and in tasks started inside) count for ``meter``."""
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


def note_deployment(deployment: str) -> None:
    """The deployment serving the model call now running in this context (the router
    records it on the call scope instead; either is taken)."""
    meter = _current.get()
    if meter is not None:
        meter.note_deployment(deployment)


def caller_snapshot() -> dict[str, Any]:
    """Who is calling, for a job that runs later (a background response): its key, the
    budgets the key carried, and the request id, stored with the job."""
    scope = current_scope()
    if scope is None:
        return {}
    principal = scope.principal
    guardrail = principal.project_guardrail
    return {"request_id": scope.request_id, "key_id": principal.key_id,
            "key_budget_usd": _text(principal.key_budget_usd),
            "project_budget_usd": _text(principal.project_budget_usd),
            "guardrail": None if guardrail is None else {
                "mode": guardrail.mode, "model": guardrail.model, "output_mode": guardrail.output_mode,
                "categories": None if guardrail.categories is None else list(guardrail.categories)}}


def _guardrail(value: object) -> GuardrailPolicy | None:
    """The moderation guardrail the caller's project had when the job was queued."""
    if not isinstance(value, dict) or value.get("mode") not in ("flag", "block", "log"):
        return None
    categories = value.get("categories")
    output_mode = value.get("output_mode")
    return GuardrailPolicy(value["mode"], value.get("model"), None if categories is None else tuple(categories),
                           output_mode if output_mode in ("flag", "block", "log") else None)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class Metering:
    def __init__(self, database: Database, config: MeteringConfig, *,
                 redis: str | aioredis.Redis | None = None) -> None:
        """``redis``: ``redis_url``, or a Redis client shared with the app (which closes it)."""
        self.config = config
        self.ledger = RequestLog(database)
        store = build_budget_store(config.budget_store, database, redis=redis,
                                   ttl_seconds=config.reservation_ttl_seconds, redis_prefix=config.redis_prefix)
        self.budgets = Budgets(store, config)
        # settled spend kept off the database (memory, Redis) is written with the ledger's batches
        self.writer = LedgerWriter(self.ledger, flush_seconds=config.flush_seconds, batch_size=config.batch_size,
                                   after_batch=store.persist)
        self._meters: weakref.WeakSet[Meter] = weakref.WeakSet()
        self._settlements: list[tuple[str, int]] = []
        self._settler: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.writer.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="budget-sweeper")

    async def _sweep(self) -> None:
        """Reservations left by a process that died mid-call never settle: past their time
        to live they are spent as reserved (the worst case), from any process."""
        ttl = self.config.reservation_ttl_seconds
        while True:
            await asyncio.sleep(min(ttl, SWEEP_EVERY_SECONDS))
            try:
                await self.budgets.store.sweep(datetime.now(UTC) - timedelta(seconds=ttl))
            except Exception:
                log.exception("releasing stale budget reservations failed")

    def open(self, scope: CallScope, *, left_outcome: str = "client_disconnected") -> Meter:
        meter = Meter(scope, budgets=self.budgets, config=self.config, settle=self._settle, write=self._write,
                      left_outcome=left_outcome)
        self._meters.add(meter)
        return meter

    @contextlib.contextmanager
    def job(self, owner_id: str, caller: dict[str, Any], surface: str) -> Iterator[Meter]:
        """A background job's scope and meter, for the caller that queued it: one ledger
        entry when it ends; a job stopped by a cancel is ``cancelled``."""
        principal = Principal(owner_id=owner_id, key_id=caller.get("key_id"),
                              key_budget_usd=_decimal(caller.get("key_budget_usd")),
                              project_budget_usd=_decimal(caller.get("project_budget_usd")),
                              project_guardrail=_guardrail(caller.get("guardrail")))
        scope = CallScope(principal, surface, request_id=caller.get("request_id") or new_request_id())
        with self.scoped(scope, left_outcome="cancelled") as meter:
            yield meter

    @contextlib.contextmanager
    def scoped(self, scope: CallScope, *, left_outcome: str = "client_disconnected") -> Iterator[Meter]:
        """``scope`` and a meter entered for a unit of work that is not an HTTP answer (a
        background job, one WebSocket ``response.create``); leaving by an exception counts
        as the caller leaving."""
        meter = self.open(scope, left_outcome=left_outcome)
        try:
            with entered(scope), metering(meter):
                yield meter
        except BaseException:
            meter.answered(None, client_left=True)
            raise
        meter.answered(None)

    def _write(self, entry: LedgerEntry) -> None:
        self.writer.put(entry)

    def _settle(self, call: Call) -> None:
        """Settlements are applied by one worker, as many in one transaction as are waiting."""
        self._settlements.append((call.id, call.cost_nanousd))
        if self._settler is None or self._settler.done():
            self._settler = asyncio.get_running_loop().create_task(self._settle_waiting(), name="budget-settler")

    async def _settle_waiting(self) -> None:
        while self._settlements:
            batch, self._settlements = self._settlements, []
            try:
                await self.budgets.settle_many(batch)
            except Exception:
                log.exception("settling %d budget reservations failed; retried with the next", len(batch))
                self._settlements[:0] = batch  # settling is idempotent; the sweeper is the last resort
                return

    async def usage(self, report: str, query: UsageQuery) -> dict[str, Any]:
        """A page of OpenAI's Usage (``completions``, ``embeddings``) or Costs API."""
        return await usage_page(self.ledger, report, query)

    async def outcome_buckets(self, *, start: int, end: int, width: int) -> list[tuple[int, int, int]]:
        """(bucket, requests, errors) per ``width`` seconds from ``start``, over every request."""
        return await self.ledger.outcome_buckets(start=start, end=end, width=width)

    async def entries(self, where: LedgerFilter, *, limit: int, after: str | None
                      ) -> tuple[list[LedgerEntry], bool]:
        return await self.ledger.entries(where, limit=limit, after=after)

    async def spend(self, holder: str) -> Spend:
        """What a budget holder (``project:<id>``, ``key:<id>``) has spent and holds reserved."""
        return await self.budgets.store.spend(holder)

    async def close(self) -> None:
        """Settle what is running, write every request (also those whose calls still run),
        and flush the ledger."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for meter in list(self._meters):
            if meter.pending:
                meter.flush()
        if self._settler is not None:
            await self._settler
        await self._settle_waiting()
        await self.writer.close()
        await self.budgets.store.aclose()
