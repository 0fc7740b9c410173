"""The usage ledger: one row per served request, summed per owner."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from sqlalchemy import case, func, select

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import RequestLogEntry, utcnow


class LedgerTotals(TypedDict):
    requests: int
    errors: int  # status >= 400
    input_tokens: int
    output_tokens: int
    total_tokens: int


class RequestLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        owner_id: str,
        surface: str,
        model: str,
        status: int,
        input_tokens: int = 0,
        output_tokens: int = 0,
        latency_ms: int = 0,
        key_id: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Append one request; returns the entry's id. ``surface`` names the API
        (e.g. ``"openai.chat"``), ``status`` is the HTTP status answered."""
        entry = RequestLogEntry(
            id=new_id("req_"),
            owner_id=owner_id,
            key_id=key_id,
            surface=surface,
            model=model,
            status=status,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            created_at=created_at or utcnow(),
        )
        async with self._db.session() as session:
            session.add(entry)
        return entry.id

    async def totals(
        self, owner_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> LedgerTotals:
        """Sums over ``owner_id``'s requests with ``since <= created_at < until``."""
        log = RequestLogEntry
        query = select(
            func.count(),
            func.coalesce(func.sum(case((log.status >= 400, 1), else_=0)), 0),
            func.coalesce(func.sum(log.input_tokens), 0),
            func.coalesce(func.sum(log.output_tokens), 0),
        ).where(log.owner_id == owner_id)
        if since is not None:
            query = query.where(log.created_at >= since)
        if until is not None:
            query = query.where(log.created_at < until)
        async with self._db.session() as session:
            requests, errors, input_tokens, output_tokens = (await session.execute(query)).one()
        return LedgerTotals(
            requests=int(requests),
            errors=int(errors),
            input_tokens=int(input_tokens),
            output_tokens=int(output_tokens),
            total_tokens=int(input_tokens) + int(output_tokens),
        )
