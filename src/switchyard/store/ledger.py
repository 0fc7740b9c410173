"""The usage ledger: one row per metered request, written in batches, read back as
entries, totals and time buckets."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Table, and_, case, func, insert, or_, select

from switchyard.store.database import Database
from switchyard.store.models import RequestLogEntry, utcnow


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    request_id: str
    owner_id: str
    surface: str
    model: str
    outcome: str
    key_id: str | None = None
    kind: str = "completions"
    deployment: str | None = None
    status: int | None = None
    error_code: str | None = None
    model_requests: int = 1
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    usage_counted: bool = False
    cost_nanousd: int = 0
    latency_ms: int = 0
    ttft_ms: int | None = None
    audio_ms: int = 0
    characters: int = 0
    created_at: datetime = field(default_factory=utcnow)
    id: str = field(default_factory=lambda: "ul_" + secrets.token_hex(12))

    def row(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in _FIELDS}  # not asdict: it deep-copies
        values["created_unix"] = int(self.created_at.timestamp())
        return values


_FIELDS = tuple(f.name for f in fields(LedgerEntry))


class LedgerTotals(TypedDict):
    requests: int
    errors: int  # status >= 400
    input_tokens: int
    output_tokens: int
    total_tokens: int


_TABLE = Table("request_log", RequestLogEntry.metadata)  # Core insert: no ORM bookkeeping per row

GROUP_COLUMNS = {  # the Usage API's group_by names
    "project_id": RequestLogEntry.owner_id,
    "api_key_id": RequestLogEntry.key_id,
    "model": RequestLogEntry.model,
    "line_item": RequestLogEntry.model,
}


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    kind: str | None = None
    project_ids: Sequence[str] = ()
    api_key_ids: Sequence[str] = ()
    models: Sequence[str] = ()
    request_id: str | None = None
    outcome: str | None = None
    since: int | None = None  # Unix seconds, inclusive
    until: int | None = None  # Unix seconds, exclusive
    status_min: int | None = None  # HTTP status, inclusive
    status_max: int | None = None  # HTTP status, inclusive
    min_latency_ms: int | None = None
    entry_id: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        log = RequestLogEntry
        found: list[ColumnElement[bool]] = []
        if self.kind is not None:
            found.append(log.kind == self.kind)
        if self.project_ids:
            found.append(log.owner_id.in_(self.project_ids))
        if self.api_key_ids:
            found.append(log.key_id.in_(self.api_key_ids))
        if self.models:
            found.append(log.model.in_(self.models))
        if self.request_id is not None:
            found.append(log.request_id == self.request_id)
        if self.outcome is not None:
            found.append(log.outcome == self.outcome)
        if self.since is not None:
            found.append(log.created_unix >= self.since)
        if self.until is not None:
            found.append(log.created_unix < self.until)
        if self.status_min is not None:
            found.append(log.status >= self.status_min)
        if self.status_max is not None:
            found.append(log.status <= self.status_max)
        if self.min_latency_ms is not None:
            found.append(log.latency_ms >= self.min_latency_ms)
        if self.entry_id is not None:
            found.append(log.id == self.entry_id)
        return found


@dataclass(frozen=True, slots=True)
class BucketRow:
    """Sums over one time bucket and one combination of the grouped columns."""

    bucket: int  # index from the query's start
    group: dict[str, str | None]
    model_requests: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_nanousd: int
    audio_ms: int = 0
    characters: int = 0


class RequestLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_many(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ``entries`` in one transaction."""
        if not entries:
            return
        async with self._db.session() as session:
            await session.execute(insert(_TABLE), [e.row() for e in entries])

    async def record(self, entry: LedgerEntry) -> str:
        await self.record_many([entry])
        return entry.id

    async def entries(self, where: LedgerFilter, *, limit: int = 20, after: str | None = None
                      ) -> tuple[list[LedgerEntry], bool]:
        """Newest first; ``after`` is the id of the last entry of the previous page."""
        log = RequestLogEntry
        query = select(log).where(*where.clauses())
        async with self._db.session(read_only=True) as session:
            if after is not None:
                anchor = (await session.execute(select(log.created_at).where(log.id == after))).scalar()
                if anchor is None:
                    return [], False
                query = query.where(or_(log.created_at < anchor, and_(log.created_at == anchor, log.id < after)))
            rows = (await session.execute(
                query.order_by(log.created_at.desc(), log.id.desc()).limit(limit + 1))).scalars().all()
        return [_entry(r) for r in rows[:limit]], len(rows) > limit

    async def buckets(self, where: LedgerFilter, *, start: int, width: int, group_by: Sequence[str]
                      ) -> list[BucketRow]:
        """Sums per time bucket (``width`` seconds from ``start``) and per ``group_by``
        column (names of ``GROUP_COLUMNS``)."""
        log = RequestLogEntry
        bucket = ((log.created_unix - start) // width).label("bucket")
        groups = [GROUP_COLUMNS[name].label(name) for name in group_by]
        query = (
            select(
                bucket, *groups, func.coalesce(func.sum(log.model_requests), 0),
                func.coalesce(func.sum(log.input_tokens), 0), func.coalesce(func.sum(log.cached_input_tokens), 0),
                func.coalesce(func.sum(log.cache_write_tokens), 0), func.coalesce(func.sum(log.output_tokens), 0),
                func.coalesce(func.sum(log.cost_nanousd), 0), func.coalesce(func.sum(log.audio_ms), 0),
                func.coalesce(func.sum(log.characters), 0),
            )
            .where(log.created_unix >= start, *where.clauses())
            .group_by(bucket, *groups)
            .order_by(bucket)
        )
        async with self._db.session(read_only=True) as session:
            rows = (await session.execute(query)).all()
        found = []
        for row in rows:
            values = tuple(row)
            named = dict(zip(group_by, values[1:1 + len(groups)], strict=True))
            sums = [int(v) for v in values[1 + len(groups):]]
            found.append(BucketRow(int(values[0]), named, *sums))
        return found

    async def outcome_buckets(self, *, start: int, end: int, width: int) -> list[tuple[int, int, int]]:
        """Every request between ``start`` and ``end`` counted per time bucket (``width``
        seconds from ``start``): (bucket, requests, errors), errors being HTTP 400 and up."""
        log = RequestLogEntry
        bucket = ((log.created_unix - start) // width).label("bucket")
        query = (select(bucket, func.count(), func.coalesce(func.sum(case((log.status >= 400, 1), else_=0)), 0))
                 .where(log.created_unix >= start, log.created_unix < end).group_by(bucket).order_by(bucket))
        async with self._db.session(read_only=True) as session:
            return [(int(b), int(n), int(e)) for b, n, e in (await session.execute(query)).all()]

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
        async with self._db.session(read_only=True) as session:
            requests, errors, input_tokens, output_tokens = (await session.execute(query)).one()
        return LedgerTotals(
            requests=int(requests),
            errors=int(errors),
            input_tokens=int(input_tokens),
            output_tokens=int(output_tokens),
            total_tokens=int(input_tokens) + int(output_tokens),
        )


def _entry(row: RequestLogEntry) -> LedgerEntry:
    return LedgerEntry(
        id=row.id, request_id=row.request_id, owner_id=row.owner_id, key_id=row.key_id, kind=row.kind,
        surface=row.surface, model=row.model, deployment=row.deployment, status=row.status,
        outcome=row.outcome, error_code=row.error_code, model_requests=row.model_requests,
        input_tokens=row.input_tokens, cached_input_tokens=row.cached_input_tokens,
        cache_write_tokens=row.cache_write_tokens, output_tokens=row.output_tokens,
        reasoning_tokens=row.reasoning_tokens, usage_counted=row.usage_counted,
        cost_nanousd=row.cost_nanousd, latency_ms=row.latency_ms, ttft_ms=row.ttft_ms,
        audio_ms=row.audio_ms, characters=row.characters, created_at=row.created_at.astimezone(UTC),
    )
