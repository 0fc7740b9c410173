"""Stored batches and their request lines.

Methods the API serves take ``owner_id`` and the batch's ``api`` (an OpenAI batch is not
an Anthropic one): another owner's batch reads as missing. The runner's methods
(claim, lease, lines) take the batch id alone, and the ones that change a running batch
take the ``worker_id`` holding its lease, so a worker whose lease was taken over changes
nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, tuple_, update

from switchyard.store.batches_models import Batch, BatchLine
from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import utcnow

Api = Literal["openai", "anthropic"]
Order = Literal["asc", "desc"]
RUNNING = ("validating", "in_progress", "finalizing", "cancelling")
ENDED = ("completed", "failed", "expired", "cancelled")
PENDING = "pending"
COUNTERS = {"succeeded": Batch.succeeded, "errored": Batch.errored, "canceled": Batch.canceled,
            "expired": Batch.expired}
PAGE = 500
Errors = list[dict[str, Any]]  # an alias: the method ``list`` shadows the builtin in the class body


@dataclass(frozen=True, slots=True)
class BatchRecord:
    id: str
    owner_id: str
    api: str
    endpoint: str
    status: str
    request: dict[str, Any]
    caller: dict[str, Any]
    errors: list[dict[str, Any]] | None
    model: str | None
    total: int
    succeeded: int
    errored: int
    canceled: int
    expired: int
    output_file_id: str | None
    error_file_id: str | None
    created_at: int
    expires_at: int
    in_progress_at: int | None
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    attempts: int

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def ended_at(self) -> int | None:
        return self.completed_at or self.failed_at or self.expired_at or self.cancelled_at


@dataclass(frozen=True, slots=True)
class LineRecord:
    line: int
    custom_id: str
    body: dict[str, Any]
    state: str
    result: dict[str, Any] | None


def _record(row: Batch) -> BatchRecord:
    return BatchRecord(
        id=row.id, owner_id=row.owner_id, api=row.api, endpoint=row.endpoint, status=row.status,
        request=dict(row.request), caller=dict(row.caller), errors=row.errors, model=row.model, total=row.total,
        succeeded=row.succeeded, errored=row.errored, canceled=row.canceled, expired=row.expired,
        output_file_id=row.output_file_id, error_file_id=row.error_file_id, created_at=row.created_at,
        expires_at=row.expires_at, in_progress_at=row.in_progress_at, finalizing_at=row.finalizing_at,
        completed_at=row.completed_at, failed_at=row.failed_at, expired_at=row.expired_at,
        cancelling_at=row.cancelling_at, cancelled_at=row.cancelled_at, attempts=row.attempts,
    )


def _line(row: BatchLine) -> LineRecord:
    return LineRecord(line=row.line, custom_id=row.custom_id, body=row.body, state=row.state, result=row.result)


def _line_rows(batch_id: str, lines: Sequence[tuple[str, dict[str, Any]]]) -> list[BatchLine]:
    return [BatchLine(batch_id=batch_id, line=n, custom_id=custom_id, body=body, state=PENDING, result=None)
            for n, (custom_id, body) in enumerate(lines, start=1)]


def _held(id: str, worker_id: str) -> list[ColumnElement[bool]]:
    return [Batch.id == id, Batch.worker_id == worker_id]


class BatchRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- the API -------------------------------------------------------------

    async def create(self, owner_id: str, api: Api, *, prefix: str, endpoint: str, request: dict[str, Any],
                     caller: dict[str, Any], window_seconds: int, model: str | None = None,
                     lines: Sequence[tuple[str, dict[str, Any]]] = (), now: float | None = None) -> BatchRecord:
        """A new batch, ``validating``; with ``lines`` (custom id, body) already known it is
        ``in_progress`` at once."""
        moment = time.time() if now is None else now
        created = int(moment)
        row = Batch(
            id=new_id(prefix), owner_id=owner_id, api=api, endpoint=endpoint,
            status="in_progress" if lines else "validating", request=request, caller=caller, errors=None,
            model=model, total=len(lines), succeeded=0, errored=0, canceled=0, expired=0, output_file_id=None,
            error_file_id=None, created_at=created, created_us=int(moment * 1_000_000),
            expires_at=created + window_seconds, in_progress_at=created if lines else None, attempts=0,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.flush()
            session.add_all(_line_rows(row.id, lines))
        return _record(row)

    async def get(self, id: str, owner_id: str, api: Api) -> BatchRecord | None:
        query = select(Batch).where(Batch.id == id, Batch.owner_id == owner_id, Batch.api == api)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def list(self, owner_id: str, api: Api, *, limit: int, after: str | None = None,
                   before: str | None = None) -> tuple[list[BatchRecord], bool]:
        """Newest first: the page older than ``after`` (or newer than ``before``, still listed
        newest first) and whether more follow in that direction. An unknown cursor gives
        an empty page."""
        where: list[ColumnElement[bool]] = [Batch.owner_id == owner_id, Batch.api == api]
        key = tuple_(Batch.created_us, Batch.id)
        cursor_id = after or before
        async with self._db.session(read_only=True) as session:
            if cursor_id is not None:
                cursor = (await session.execute(select(Batch.created_us, Batch.id).where(
                    Batch.id == cursor_id, Batch.owner_id == owner_id, Batch.api == api))).one_or_none()
                if cursor is None:
                    return [], False
                where.append(key < tuple_(*cursor) if after is not None else key > tuple_(*cursor))
            newest_first = before is None
            ordering = (Batch.created_us.desc(), Batch.id.desc()) if newest_first else (
                Batch.created_us.asc(), Batch.id.asc())
            rows = list(await session.scalars(select(Batch).where(*where).order_by(*ordering).limit(limit + 1)))
        page = [_record(row) for row in rows[:limit]]
        return (page if newest_first else page[::-1]), len(rows) > limit

    async def request_cancel(self, id: str, owner_id: str, api: Api, *, now: float | None = None
                             ) -> BatchRecord | None:
        """``cancelling`` for a batch still running; an ended (or already cancelling) batch
        is returned as it is; None when the owner has no such batch."""
        moment = int(time.time() if now is None else now)
        statement = (
            update(Batch)
            .where(Batch.id == id, Batch.owner_id == owner_id, Batch.api == api,
                   Batch.status.in_(("validating", "in_progress")))
            .values(status="cancelling", cancelling_at=moment)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            await session.execute(statement)
            row = await session.scalar(select(Batch).where(Batch.id == id, Batch.owner_id == owner_id,
                                                           Batch.api == api))
            return None if row is None else _record(row)

    async def delete(self, id: str, owner_id: str, api: Api) -> bool:
        """Removes an ended batch and its lines; False when there is no such ended batch."""
        owned = [Batch.id == id, Batch.owner_id == owner_id, Batch.api == api, Batch.status.in_(ENDED)]
        async with self._db.session() as session:
            found = await session.scalar(select(Batch.id).where(*owned))
            if found is None:
                return False
            await session.execute(delete(BatchLine).where(BatchLine.batch_id == id))
            await session.execute(delete(Batch).where(*owned))
        return True

    async def lines(self, id: str, *, states: Sequence[str] | None = None) -> AsyncIterator[LineRecord]:
        """The batch's lines in input order, a page at a time (never all in memory)."""
        after = 0
        while True:
            query = select(BatchLine).where(BatchLine.batch_id == id, BatchLine.line > after)
            if states is not None:
                query = query.where(BatchLine.state.in_(states))
            async with self._db.session(read_only=True) as session:
                rows = list(await session.scalars(query.order_by(BatchLine.line).limit(PAGE)))
            for row in rows:
                yield _line(row)
            if len(rows) < PAGE:
                return
            after = rows[-1].line

    # -- the runner ----------------------------------------------------------

    async def claim_next(self, worker_id: str, lease_seconds: float, *, now: datetime | None = None
                         ) -> BatchRecord | None:
        """The oldest running batch that no live worker holds (a new one, or one whose
        worker stopped or died), leased to ``worker_id``. One statement: ``FOR UPDATE SKIP
        LOCKED`` on PostgreSQL, SQLite's write lock there."""
        now = now or utcnow()
        claimable = and_(Batch.status.in_(RUNNING), or_(Batch.lease_until.is_(None), Batch.lease_until < now))
        pick = (select(Batch.id).where(claimable).order_by(Batch.created_us, Batch.id).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery())
        statement = (
            update(Batch)
            .where(Batch.id == pick, claimable)
            .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=Batch.attempts + 1)
            .returning(Batch)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _record(row)

    async def take(self, id: str, worker_id: str, lease_seconds: float, *, now: datetime | None = None
                   ) -> BatchRecord | None:
        """Batch ``id`` leased to ``worker_id`` if it is still running and no live worker
        holds it (a job queue handed this worker the batch); None otherwise."""
        now = now or utcnow()
        statement = (
            update(Batch)
            .where(Batch.id == id, Batch.status.in_(RUNNING),
                   or_(Batch.lease_until.is_(None), Batch.lease_until < now))
            .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=Batch.attempts + 1)
            .returning(Batch)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _record(row)

    async def open_ids(self) -> list[str]:
        """Every batch that has not ended, oldest first."""
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(select(Batch.id).where(Batch.status.in_(RUNNING))
                                              .order_by(Batch.created_us, Batch.id)))

    async def renew_lease(self, id: str, worker_id: str, lease_seconds: float) -> bool:
        """False when ``worker_id`` no longer holds the batch: its worker should stop."""
        statement = (update(Batch).where(*_held(id, worker_id))
                     .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def release(self, id: str, worker_id: str) -> None:
        """The worker stops (its process shuts down): any process may take the batch now. A
        handover is not a failed attempt, so the count goes back."""
        statement = (update(Batch).where(*_held(id, worker_id))
                     .values(worker_id=None, lease_until=None, attempts=Batch.attempts - 1)
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            await session.execute(statement)

    async def current(self, id: str) -> BatchRecord | None:
        async with self._db.session(read_only=True) as session:
            row = await session.get(Batch, id)
            return None if row is None else _record(row)

    async def start_lines(self, id: str, worker_id: str, lines: Sequence[tuple[str, dict[str, Any]]],
                          model: str | None, *, now: float | None = None) -> bool:
        """A validated batch's lines, stored with its move to ``in_progress`` (one transaction)."""
        moment = int(time.time() if now is None else now)
        statement = (update(Batch).where(*_held(id, worker_id), Batch.status == "validating")
                     .values(status="in_progress", in_progress_at=moment, total=len(lines), model=model)
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            if not (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(delete(BatchLine).where(BatchLine.batch_id == id))
            session.add_all(_line_rows(id, lines))
        return True

    async def fail(self, id: str, worker_id: str, errors: Errors, *, now: float | None = None) -> None:
        moment = int(time.time() if now is None else now)
        statement = (update(Batch).where(*_held(id, worker_id))
                     .values(status="failed", failed_at=moment, errors=errors, worker_id=None, lease_until=None)
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            await session.execute(statement)

    async def finish_line(self, id: str, line: int, state: str, result: dict[str, Any]) -> bool:
        """The line's outcome, counted on its batch; False (nothing written) when the line
        already had one."""
        return await self.finish_lines(id, [(line, state, result)]) == 1

    async def finish_lines(self, id: str, outcomes: Sequence[tuple[int, str, dict[str, Any]]]) -> int:
        """Several lines' outcomes (line, state, result) and their counts, in one transaction;
        a line that already had an outcome keeps it. How many were written."""
        written: dict[str, int] = {}
        async with self._db.session() as session:
            for line, state, result in outcomes:
                statement = (update(BatchLine)
                             .where(BatchLine.batch_id == id, BatchLine.line == line, BatchLine.state == PENDING)
                             .values(state=state, result=result).execution_options(synchronize_session=False))
                if (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                    written[state] = written.get(state, 0) + 1
            if written:
                counts = {COUNTERS[state]: COUNTERS[state] + n for state, n in written.items()}
                await session.execute(update(Batch).where(Batch.id == id).values(counts)
                                      .execution_options(synchronize_session=False))
        return sum(written.values())

    async def settle_pending(self, id: str, state: str, result: dict[str, Any]) -> int:
        """Every line still pending ends as ``state`` (``canceled``, ``expired``); how many."""
        statement = (update(BatchLine).where(BatchLine.batch_id == id, BatchLine.state == PENDING)
                     .values(state=state, result=result).execution_options(synchronize_session=False))
        async with self._db.session() as session:
            count = int((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
            counter = COUNTERS[state]
            await session.execute(update(Batch).where(Batch.id == id).values({counter: counter + count})
                                  .execution_options(synchronize_session=False))
        return count

    async def pending_count(self, id: str) -> int:
        query = select(func.count()).select_from(BatchLine).where(BatchLine.batch_id == id,
                                                                  BatchLine.state == PENDING)
        async with self._db.session(read_only=True) as session:
            return int((await session.execute(query)).scalar_one())

    async def finalizing(self, id: str, worker_id: str, *, now: float | None = None) -> bool:
        """``in_progress`` → ``finalizing`` (a cancelling batch stays cancelling)."""
        moment = int(time.time() if now is None else now)
        statement = (update(Batch).where(*_held(id, worker_id), Batch.status == "in_progress")
                     .values(status="finalizing", finalizing_at=moment).execution_options(synchronize_session=False))
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def end(self, id: str, worker_id: str, status: str, *, output_file_id: str | None,
                  error_file_id: str | None, now: float | None = None) -> bool:
        """The batch ends as ``status`` (completed, expired, cancelled) with its files."""
        moment = int(time.time() if now is None else now)
        stamp = {"completed": "completed_at", "expired": "expired_at", "cancelled": "cancelled_at"}[status]
        statement = (update(Batch).where(*_held(id, worker_id))
                     .values({"status": status, stamp: moment, "output_file_id": output_file_id,
                              "error_file_id": error_file_id, "worker_id": None, "lease_until": None})
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
