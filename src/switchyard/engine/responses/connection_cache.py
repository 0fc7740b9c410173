"""What one WebSocket connection remembers between its responses: the latest
response of each lane, with everything a continuation from it sees. A response
made with ``store: false`` exists nowhere else, so ``previous_response_id`` can
name it only on the connection that made it, and only while it is the latest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Lane = str | None


@dataclass(frozen=True, slots=True)
class _Latest:
    response_id: str
    context: list[dict[str, Any]]


class ConnectionCache:
    def __init__(self) -> None:
        self._latest: dict[Lane, _Latest] = {}

    def context(self, response_id: str) -> list[dict[str, Any]] | None:
        """The items a continuation of ``response_id`` sees, if this connection holds it
        (on any lane: a new lane may fork from another lane's latest response)."""
        for latest in self._latest.values():
            if latest.response_id == response_id:
                return list(latest.context)
        return None

    def remember(self, lane: Lane, response_id: str, context: list[dict[str, Any]]) -> None:
        self._latest[lane] = _Latest(response_id, context)

    def forget(self, lane: Lane, response_id: str) -> None:
        """A failed continuation on ``lane`` drops the parent it continued from; a failed
        fork from another lane leaves that lane's latest response alone."""
        latest = self._latest.get(lane)
        if latest is not None and latest.response_id == response_id:
            del self._latest[lane]
