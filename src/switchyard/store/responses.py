"""Stored responses: the wire ``Response`` body, its input and output items, the
chain behind ``previous_response_id``, and the state of background runs.

Methods the API serves take ``owner_id`` and treat another owner's response as
missing. Methods only the engine calls on a response it already holds
(``save_output``, ``update_status``, the lease methods, ``is_cancel_requested``)
take the id alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from switchyard.store.database import Database
from switchyard.store.item_pages import Order, item_page
from switchyard.store.models import utcnow
from switchyard.store.responses_models import Response, ResponseEvent, ResponseItem

INPUT = "input"
OUTPUT = "output"
CANCELLABLE = ("queued", "in_progress")
MAX_CHAIN = 100_000  # stops the walk back through previous_response_id should ids ever loop


def _claimable(now: datetime) -> ColumnElement[bool]:
    """A background response no live worker runs: queued, or in progress with its lease run out."""
    return and_(
        Response.background.is_(True),
        or_(Response.status == "queued", and_(Response.status == "in_progress", Response.lease_until < now)),
    )


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    id: str
    owner_id: str
    model: str
    status: str
    body: dict[str, Any]
    request: dict[str, Any]
    previous_response_id: str | None
    conversation_id: str | None
    background: bool
    created_at: int
    completed_at: int | None
    attempts: int
    worker_id: str | None
    lease_until: datetime | None
    cancel_requested: bool


def _record(row: Response) -> ResponseRecord:
    return ResponseRecord(
        id=row.id,
        owner_id=row.owner_id,
        model=row.model,
        status=row.status,
        body=row.body,
        request=row.request,
        previous_response_id=row.previous_response_id,
        conversation_id=row.conversation_id,
        background=row.background,
        created_at=row.created_at,
        completed_at=row.completed_at,
        attempts=row.attempts,
        worker_id=row.worker_id,
        lease_until=row.lease_until,
        cancel_requested=row.cancel_requested,
    )


def _item_rows(response_id: str, role: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for position, item in enumerate(items):
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ValueError(f"{role} item {position} of {response_id} has no id")
        rows.append({"response_id": response_id, "role": role, "position": position, "item_id": item_id, "item": item})
    return rows


async def _insert_items(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(ResponseItem), rows)


def _owned(id: str, owner_id: str) -> ColumnElement[bool]:
    """For item queries: the response ``id`` belongs to ``owner_id``."""
    return ResponseItem.response_id.in_(select(Response.id).where(Response.id == id, Response.owner_id == owner_id))


class ResponseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        id: str,
        owner_id: str,
        model: str,
        status: str,
        body: dict[str, Any],
        request: dict[str, Any],
        input_items: list[dict[str, Any]],
        previous_response_id: str | None,
        conversation_id: str | None,
        background: bool,
        created_at: int,
        output_items: list[dict[str, Any]] | None = None,
        completed_at: int | None = None,
    ) -> ResponseRecord:
        """The response, its input items (each with an ``id``) and, for a response
        stored once it is finished, its output items: in one transaction."""
        row = Response(
            id=id,
            owner_id=owner_id,
            model=model,
            status=status,
            body=body,
            request=request,
            previous_response_id=previous_response_id,
            conversation_id=conversation_id,
            background=background,
            created_at=created_at,
            completed_at=completed_at,
            cancel_requested=False,
            worker_id=None,
            lease_until=None,
            attempts=0,
        )
        items = _item_rows(id, INPUT, input_items)
        if output_items:
            items += _item_rows(id, OUTPUT, output_items)
        async with self._db.session() as session:
            session.add(row)
            await session.flush()
            await _insert_items(session, items)
        return _record(row)

    async def get(self, id: str, owner_id: str) -> ResponseRecord | None:
        query = select(Response).where(Response.id == id, Response.owner_id == owner_id)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def recent(self, owner_id: str, limit: int) -> list[ResponseRecord]:
        """``owner_id``'s newest responses, newest first."""
        query = (select(Response).where(Response.owner_id == owner_id)
                 .order_by(Response.created_at.desc(), Response.id.desc()).limit(limit))
        async with self._db.session(read_only=True) as session:
            return [_record(row) for row in (await session.scalars(query)).all()]

    async def save_output(
        self,
        id: str,
        *,
        status: str,
        body: dict[str, Any],
        output_items: list[dict[str, Any]],
        completed_at: int | None,
    ) -> bool:
        """Replaces the output items and sets body, status and completed_at, all at
        once. False if the response no longer exists (nothing is written then)."""
        items = _item_rows(id, OUTPUT, output_items)
        statement = (
            update(Response)
            .where(Response.id == id)
            .values(status=status, body=body, completed_at=completed_at)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            if not (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(
                delete(ResponseItem).where(ResponseItem.response_id == id, ResponseItem.role == OUTPUT)
            )
            await _insert_items(session, items)
        return True

    async def update_status(
        self, id: str, status: str, body: dict[str, Any], *, from_status: str | None = None
    ) -> bool:
        """Sets status and body; with ``from_status``, only while the status is still
        that (e.g. cancel a ``queued`` response unless a worker claimed it meanwhile).
        False when nothing was updated."""
        statement = (
            update(Response)
            .where(Response.id == id)
            .values(status=status, body=body)
            .execution_options(synchronize_session=False)
        )
        if from_status is not None:
            statement = statement.where(Response.status == from_status)
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def delete(self, id: str, owner_id: str) -> bool:
        """Removes the response with its items and stored events. Responses that
        follow it keep their own items; their chain now ends after this gap."""
        statement = delete(Response).where(Response.id == id, Response.owner_id == owner_id)
        async with self._db.session() as session:
            if not (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(delete(ResponseItem).where(ResponseItem.response_id == id))
            await session.execute(delete(ResponseEvent).where(ResponseEvent.response_id == id))
        return True

    async def input_items(
        self, id: str, owner_id: str, *, after: str | None = None, limit: int = 20, order: Order = "desc"
    ) -> tuple[list[dict[str, Any]], bool]:
        """A page of the response's input items and whether more follow. An unknown
        response or ``after`` id gives ``([], False)``."""
        where = [ResponseItem.response_id == id, ResponseItem.role == INPUT, _owned(id, owner_id)]
        async with self._db.session(read_only=True) as session:
            return await item_page(
                session,
                position=ResponseItem.position,
                item_id=ResponseItem.item_id,
                item=ResponseItem.item,
                where=where,
                after=after,
                limit=limit,
                order=order,
            )

    async def items_for_context(self, id: str, owner_id: str) -> list[dict[str, Any]]:
        """Everything a follow-up to ``id`` sees: for each response from the root of
        its ``previous_response_id`` chain down to ``id`` itself, its input items then
        its output items. One recursive query. The walk stops at a deleted or foreign
        response; an unknown ``id`` gives ``[]``."""
        start = select(Response.id, Response.previous_response_id, literal(0, Integer).label("depth")).where(
            Response.id == id, Response.owner_id == owner_id
        )
        chain = start.cte("chain", recursive=True)
        parent = aliased(Response)
        chain = chain.union_all(
            select(parent.id, parent.previous_response_id, chain.c.depth + 1).where(
                parent.id == chain.c.previous_response_id,
                parent.owner_id == owner_id,
                chain.c.depth < MAX_CHAIN,
            )
        )
        query = (
            select(ResponseItem.item)
            .join(chain, ResponseItem.response_id == chain.c.id)
            # oldest response first; "input" sorts before "output"
            .order_by(chain.c.depth.desc(), ResponseItem.role, ResponseItem.position)
        )
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(query))

    async def items_by_id(self, item_ids: list[str], owner_id: str) -> dict[str, dict[str, Any]]:
        """The stored items of ``owner_id``'s responses that have one of ``item_ids``, by id.
        An item given as input and made again as output is the same item: the output copy
        (what the model made) wins, then the newest response. Other owners' items are absent."""
        if not item_ids:
            return {}
        query = (
            select(ResponseItem.item_id, ResponseItem.item)
            .join(Response, Response.id == ResponseItem.response_id)
            .where(ResponseItem.item_id.in_(sorted(set(item_ids))), Response.owner_id == owner_id)
            # later rows overwrite earlier ones: inputs before outputs, older responses first
            .order_by(ResponseItem.role, Response.created_at, Response.id)
        )
        async with self._db.session(read_only=True) as session:
            return {item_id: item for item_id, item in (await session.execute(query)).all()}

    # Background runs

    async def count_queued(self) -> int:
        """Background responses waiting for a runner (every owner's)."""
        query = select(func.count()).select_from(Response).where(Response.background.is_(True),
                                                                  Response.status == "queued")
        async with self._db.session(read_only=True) as session:
            return int((await session.execute(query)).scalar_one())

    async def take(self, id: str, worker_id: str, lease_seconds: float, *, now: datetime | None = None
                   ) -> ResponseRecord | None:
        """Background response ``id`` leased to ``worker_id`` as ``claim_next`` would lease
        it, if it is ``queued`` or its lease has run out (a job queue handed this worker
        the response); None otherwise."""
        now = now or utcnow()
        statement = (
            update(Response)
            .where(Response.id == id, _claimable(now))
            .values(status="in_progress", worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=Response.attempts + 1)
            .returning(Response)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            if row is None:
                return None
            if row.body.get("status") != "in_progress":
                row.body = {**row.body, "status": "in_progress"}
            return _record(row)

    async def open_background_ids(self) -> list[str]:
        """Every background response not finished (``queued`` or ``in_progress``), oldest first."""
        query = (select(Response.id).where(Response.background.is_(True), Response.status.in_(CANCELLABLE))
                 .order_by(Response.created_at, Response.id))
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(query))

    async def is_open(self, id: str) -> bool:
        async with self._db.session(read_only=True) as session:
            return await session.scalar(select(Response.status).where(Response.id == id)) in CANCELLABLE

    async def claim_next(
        self, worker_id: str, lease_seconds: float, *, now: datetime | None = None
    ) -> ResponseRecord | None:
        """Takes the oldest ``queued`` background response, or an ``in_progress`` one
        whose lease has run out: status ``in_progress`` (in the body too), leased to
        ``worker_id``, ``attempts`` + 1. One statement, so no two workers get the same
        response: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's write lock there."""
        now = now or utcnow()
        claimable = _claimable(now)
        pick = (
            select(Response.id)
            .where(claimable)
            .order_by(Response.created_at, Response.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(Response)
            .where(Response.id == pick, claimable)
            .values(
                status="in_progress",
                worker_id=worker_id,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=Response.attempts + 1,
            )
            .returning(Response)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            if row is None:
                return None
            if row.body.get("status") != "in_progress":
                row.body = {**row.body, "status": "in_progress"}
            return _record(row)

    async def renew_lease(self, id: str, worker_id: str, lease_seconds: float, *, now: datetime | None = None) -> bool:
        """Extends the lease; False when ``worker_id`` no longer holds it (it expired and
        another worker took the response, or the run is over): the worker should stop."""
        now = now or utcnow()
        statement = (
            update(Response)
            .where(Response.id == id, Response.worker_id == worker_id, Response.status == "in_progress")
            .values(lease_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def expired_in_progress(self, now: datetime | None = None) -> list[ResponseRecord]:
        """All owners' ``in_progress`` responses whose lease ran out before ``now``
        (responses never leased are not included), oldest first."""
        query = (
            select(Response)
            .where(Response.status == "in_progress", Response.lease_until < (now or utcnow()))
            .order_by(Response.created_at, Response.id)
        )
        async with self._db.session(read_only=True) as session:
            return [_record(row) for row in await session.scalars(query)]

    async def request_cancel(self, id: str, owner_id: str) -> ResponseRecord | None:
        """Flags a ``queued`` or ``in_progress`` response for cancellation (the runner
        polls ``is_cancel_requested``) and returns it; a finished response is returned
        unflagged. None if ``owner_id`` has no such response."""
        owned = and_(Response.id == id, Response.owner_id == owner_id)
        flag = (
            update(Response)
            .where(owned, Response.status.in_(CANCELLABLE))
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            await session.execute(flag)
            row = await session.scalar(select(Response).where(owned))
            return None if row is None else _record(row)

    async def is_cancel_requested(self, id: str) -> bool:
        async with self._db.session(read_only=True) as session:
            return bool(await session.scalar(select(Response.cancel_requested).where(Response.id == id)))
