"""Stored Assistants runs and run steps.

Methods the API serves take ``owner_id`` and the run's ``thread_id``: another owner's
run (or one of another thread) reads as missing. The runner's methods (claim, lease)
take the run id alone, and ``save`` may be guarded by the ``worker_id`` holding the
lease, so a worker whose lease was taken over changes nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from switchyard.store.cursor_pages import cursor_page
from switchyard.store.database import Database
from switchyard.store.models import utcnow
from switchyard.store.runs_models import AssistantRun, AssistantRunStep

Order = Literal["asc", "desc"]
RUNNABLE = ("queued", "in_progress", "cancelling")
ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    owner_id: str
    thread_id: str
    status: str
    body: dict[str, Any]
    request: dict[str, Any]
    usage: dict[str, Any]
    expires_at: int | None
    cancel_requested: bool
    worker_id: str | None
    attempts: int


def _record(row: AssistantRun) -> RunRecord:
    return RunRecord(id=row.id, owner_id=row.owner_id, thread_id=row.thread_id, status=row.status,
                     body=dict(row.body), request=dict(row.request), usage=dict(row.usage),
                     expires_at=row.expires_at, cancel_requested=row.cancel_requested, worker_id=row.worker_id,
                     attempts=row.attempts)


def _now_us() -> int:
    return int(time.time() * 1_000_000)


class RunRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- the API -------------------------------------------------------------

    async def create(self, *, owner_id: str, body: dict[str, Any], request: dict[str, Any],
                     worker_id: str | None = None, lease_seconds: float = 0.0) -> RunRecord:
        """A new run as ``body`` says (queued); leased at once to ``worker_id`` when given (a
        run streamed by the process that creates it)."""
        row = AssistantRun(
            id=body["id"], owner_id=owner_id, thread_id=body["thread_id"], assistant_id=body["assistant_id"],
            status=body["status"], body=body, request=request, usage={}, created_us=_now_us(), expires_at=None,
            cancel_requested=False, worker_id=worker_id, attempts=1 if worker_id else 0,
            lease_until=utcnow() + timedelta(seconds=lease_seconds) if worker_id else None,
        )
        async with self._db.session() as session:
            session.add(row)
        return _record(row)

    async def get(self, id: str, thread_id: str, owner_id: str) -> RunRecord | None:
        query = select(AssistantRun).where(AssistantRun.id == id, AssistantRun.thread_id == thread_id,
                                           AssistantRun.owner_id == owner_id)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def current(self, id: str) -> RunRecord | None:
        async with self._db.session(read_only=True) as session:
            row = await session.get(AssistantRun, id)
            return None if row is None else _record(row)

    async def active_in_thread(self, thread_id: str, owner_id: str) -> RunRecord | None:
        query = select(AssistantRun).where(AssistantRun.thread_id == thread_id, AssistantRun.owner_id == owner_id,
                                           AssistantRun.status.in_(ACTIVE)).limit(1)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def list(self, thread_id: str, owner_id: str, *, limit: int, order: Order, after: str | None,
                   before: str | None) -> tuple[list[RunRecord], bool]:
        where = [AssistantRun.thread_id == thread_id, AssistantRun.owner_id == owner_id]
        async with self._db.session(read_only=True) as session:
            rows, more = await _page(session, AssistantRun, where, limit=limit, order=order, after=after,
                                     before=before)
        return [_record(r) for r in rows], more

    async def save(self, id: str, *, body: dict[str, Any], usage: dict[str, Any] | None = None,
                   worker_id: str | None = None, release: bool = False) -> bool:
        """Store the run as ``body`` says (status and deadline from it); with ``worker_id``
        only while that worker holds it. ``release`` gives up the lease."""
        values: dict[str, Any] = {"body": body, "status": body["status"], "expires_at": body.get("expires_at")
                                  if body["status"] == "requires_action" else None}
        if usage is not None:
            values["usage"] = usage
        if release:
            values.update(worker_id=None, lease_until=None)
        where: list[ColumnElement[bool]] = [AssistantRun.id == id]
        if worker_id is not None:
            where.append(AssistantRun.worker_id == worker_id)
        statement = update(AssistantRun).where(*where).values(**values).execution_options(synchronize_session=False)
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def update_metadata(self, id: str, body: dict[str, Any]) -> None:
        """Only ``metadata`` of the stored body changes (a run may be running meanwhile)."""
        async with self._db.session() as session:
            row = await session.get(AssistantRun, id)
            if row is not None:
                row.body = {**row.body, "metadata": body.get("metadata")}

    async def request_cancel(self, id: str) -> None:
        statement = (update(AssistantRun).where(AssistantRun.id == id).values(cancel_requested=True)
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            await session.execute(statement)

    async def is_cancel_requested(self, id: str) -> bool:
        async with self._db.session(read_only=True) as session:
            return bool(await session.scalar(select(AssistantRun.cancel_requested).where(AssistantRun.id == id)))

    # -- the runner ----------------------------------------------------------

    async def claim_next(self, worker_id: str, lease_seconds: float, *, now: datetime | None = None,
                         now_s: int | None = None) -> RunRecord | None:
        """The oldest run a worker has to do something with: a queued or running one that no
        live worker holds, or one whose wait for tool outputs has expired."""
        now = now or utcnow()
        deadline = int(time.time()) if now_s is None else now_s
        free = or_(AssistantRun.lease_until.is_(None), AssistantRun.lease_until < now)
        claimable = and_(free, or_(AssistantRun.status.in_(RUNNABLE),
                                   and_(AssistantRun.status == "requires_action", AssistantRun.expires_at < deadline)))
        pick = (select(AssistantRun.id).where(claimable).order_by(AssistantRun.created_us, AssistantRun.id).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery())
        statement = (
            update(AssistantRun).where(AssistantRun.id == pick, claimable)
            .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=AssistantRun.attempts + 1)
            .returning(AssistantRun).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _record(row)

    def _needs_work(self, now: datetime, now_s: int) -> ColumnElement[bool]:
        return or_(AssistantRun.status.in_(RUNNABLE),
                   and_(AssistantRun.status == "requires_action", AssistantRun.expires_at < now_s))

    async def take(self, id: str, worker_id: str, lease_seconds: float) -> RunRecord | None:
        """Run ``id`` leased to ``worker_id``, if it needs doing and no live worker holds it
        (a queue runner was handed it)."""
        now, now_s = utcnow(), int(time.time())
        free = or_(AssistantRun.lease_until.is_(None), AssistantRun.lease_until < now)
        statement = (
            update(AssistantRun).where(AssistantRun.id == id, free, self._needs_work(now, now_s))
            .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=AssistantRun.attempts + 1)
            .returning(AssistantRun).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _record(row)

    async def needs_work(self, id: str) -> bool:
        """The run has something a worker must do (it may be leased to one now)."""
        query = select(AssistantRun.id).where(AssistantRun.id == id, self._needs_work(utcnow(), int(time.time())))
        async with self._db.session(read_only=True) as session:
            return await session.scalar(query) is not None

    async def open_ids(self) -> list[str]:
        """Every run a worker must do something with, oldest first."""
        query = (select(AssistantRun.id).where(self._needs_work(utcnow(), int(time.time())))
                 .order_by(AssistantRun.created_us, AssistantRun.id))
        async with self._db.session(read_only=True) as session:
            return list(await session.scalars(query))

    async def hold(self, id: str, worker_id: str, lease_seconds: float) -> bool:
        """Lease one run to ``worker_id`` (a run resumed in the foreground), if no live worker
        holds it."""
        now = utcnow()
        statement = (update(AssistantRun)
                     .where(AssistantRun.id == id,
                            or_(AssistantRun.lease_until.is_(None), AssistantRun.lease_until < now))
                     .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                             attempts=AssistantRun.attempts + 1)
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def renew_lease(self, id: str, worker_id: str, lease_seconds: float) -> bool:
        statement = (update(AssistantRun).where(AssistantRun.id == id, AssistantRun.worker_id == worker_id)
                     .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
                     .execution_options(synchronize_session=False))
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def release(self, id: str, worker_id: str) -> None:
        statement = (update(AssistantRun).where(AssistantRun.id == id, AssistantRun.worker_id == worker_id)
                     .values(worker_id=None, lease_until=None).execution_options(synchronize_session=False))
        async with self._db.session() as session:
            await session.execute(statement)

    # -- steps ---------------------------------------------------------------

    async def put_steps(self, steps: Sequence[dict[str, Any]], owner_id: str) -> None:
        """Insert or replace steps (their wire bodies), in the order given."""
        if not steps:
            return
        base = _now_us()
        rows = [{"id": s["id"], "run_id": s["run_id"], "owner_id": owner_id, "thread_id": s["thread_id"],
                 "created_us": base + n, "body": s} for n, s in enumerate(steps)]
        insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        async with self._db.session() as session:
            statement = insert(AssistantRunStep).values(rows)
            statement = statement.on_conflict_do_update(index_elements=["id"],
                                                        set_={"body": statement.excluded.body})
            await session.execute(statement)

    async def steps(self, run_id: str) -> list[dict[str, Any]]:
        """Every step of a run, oldest first (for the runner)."""
        query = (select(AssistantRunStep.body).where(AssistantRunStep.run_id == run_id)
                 .order_by(AssistantRunStep.created_us, AssistantRunStep.id))
        async with self._db.session(read_only=True) as session:
            return [dict(b) for b in await session.scalars(query)]

    async def thread_steps(self, thread_id: str, owner_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The thread's newest steps, newest first (across its runs)."""
        query = (select(AssistantRunStep.body)
                 .where(AssistantRunStep.thread_id == thread_id, AssistantRunStep.owner_id == owner_id)
                 .order_by(AssistantRunStep.created_us.desc(), AssistantRunStep.id.desc()).limit(limit))
        async with self._db.session(read_only=True) as session:
            return [dict(b) for b in await session.scalars(query)]

    async def get_step(self, id: str, run_id: str, thread_id: str, owner_id: str) -> dict[str, Any] | None:
        query = select(AssistantRunStep.body).where(
            AssistantRunStep.id == id, AssistantRunStep.run_id == run_id, AssistantRunStep.thread_id == thread_id,
            AssistantRunStep.owner_id == owner_id)
        async with self._db.session(read_only=True) as session:
            body = await session.scalar(query)
            return None if body is None else dict(body)

    async def list_steps(self, run_id: str, *, limit: int, order: Order, after: str | None,
                         before: str | None) -> tuple[list[dict[str, Any]], bool]:
        where = [AssistantRunStep.run_id == run_id]
        async with self._db.session(read_only=True) as session:
            rows, more = await _page(session, AssistantRunStep, where, limit=limit, order=order, after=after,
                                     before=before)
        return [dict(r.body) for r in rows], more


async def _page(session: Any, model: Any, where: list[Any], *, limit: int, order: Order, after: str | None,
                before: str | None) -> tuple[list[Any], bool]:
    """OpenAI's cursor pages by creation; an unknown cursor gives an empty page."""
    return await cursor_page(session, model, (model.created_us, model.id), where,
                             cursor_where=lambda id: and_(*where, model.id == id), limit=limit, order=order,
                             after=after, before=before)
