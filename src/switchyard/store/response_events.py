"""The stored streaming events of a response, so that a client can (re)attach to a
background response's stream from any ``sequence_number``. Bounded per response:
the oldest events are dropped first.

Keyed by response id alone: callers check the response's owner first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select

from switchyard.store.database import Database
from switchyard.store.responses_models import ResponseEvent


class ResponseEventLog:
    def __init__(self, db: Database, max_events_per_response: int = 10_000) -> None:
        if max_events_per_response < 1:
            raise ValueError("max_events_per_response must be at least 1")
        self._db = db
        self._max = max_events_per_response

    async def append(self, response_id: str, events: list[dict[str, Any]]) -> None:
        """Stores ``events`` (each with an integer ``sequence_number``, not stored yet
        for this response) and drops the oldest beyond the bound."""
        if not events:
            return
        rows = []
        for event in events:
            number = event.get("sequence_number")
            if not isinstance(number, int) or isinstance(number, bool):
                raise ValueError(f"event without an integer sequence_number: {event.get('type')!r}")
            rows.append({"response_id": response_id, "sequence_number": number, "event": event})
        oldest_kept = (
            select(ResponseEvent.sequence_number)
            .where(ResponseEvent.response_id == response_id)
            .order_by(ResponseEvent.sequence_number.desc())
            .offset(self._max - 1)
            .limit(1)
            .scalar_subquery()
        )
        trim = delete(ResponseEvent).where(
            ResponseEvent.response_id == response_id, ResponseEvent.sequence_number < oldest_kept
        )
        async with self._db.session() as session:
            await session.execute(insert(ResponseEvent), rows)
            # Numbers count up from 0 (or go on after a restart), so a response holds more
            # than the bound only once they reach it: no trim before then.
            if max(row["sequence_number"] for row in rows) >= self._max:
                await session.execute(trim)

    async def after(
        self, response_id: str, starting_after: int | None = None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The kept events with ``sequence_number > starting_after`` (all when None),
        in order, and the lowest sequence number still kept (None when none is): if it
        is above ``starting_after + 1``, events the client asked for were dropped."""
        # One statement, so that the events and the lowest number come from one snapshot.
        lowest = (
            select(func.min(ResponseEvent.sequence_number).label("lowest"))
            .where(ResponseEvent.response_id == response_id)
            .subquery()
        )
        joined: ColumnElement[bool] = ResponseEvent.response_id == response_id
        if starting_after is not None:
            joined = and_(joined, ResponseEvent.sequence_number > starting_after)
        query = (
            select(lowest.c.lowest, ResponseEvent.event)
            .select_from(lowest)
            .outerjoin(ResponseEvent, joined)
            .order_by(ResponseEvent.sequence_number)
        )
        async with self._db.session(read_only=True) as session:
            rows = (await session.execute(query)).all()
        events = [event for _, event in rows if event is not None]
        return events, rows[0][0] if rows else None

    async def last_sequence(self, response_id: str) -> int | None:
        """The highest stored sequence number, to continue numbering after a restart."""
        query = select(func.max(ResponseEvent.sequence_number)).where(ResponseEvent.response_id == response_id)
        async with self._db.session(read_only=True) as session:
            return await session.scalar(query)

    async def delete(self, response_id: str) -> None:
        async with self._db.session() as session:
            await session.execute(delete(ResponseEvent).where(ResponseEvent.response_id == response_id))
