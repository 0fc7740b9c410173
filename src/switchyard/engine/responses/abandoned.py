"""The end of the stored stream of a background response whose runner died.

Its log stops wherever the process stopped: maybe before ``response.created``,
maybe inside an item. The stream must still end as every stream does, so this
writes what is missing: ``response.created`` for an empty log, an
``output_item.done`` (status ``incomplete``, with the text streamed so far) for
every item left open, and ``response.failed`` whose output holds every item."""

from __future__ import annotations

import copy
from typing import Any


class _Items:
    """The output items as the stored events built them, by output index."""

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}
        self.done: set[int] = set()

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        index = event.get("output_index")
        if kind in ("response.output_item.added", "response.output_item.done") and isinstance(index, int):
            self.items[index] = copy.deepcopy(event["item"])
            if kind == "response.output_item.done":
                self.done.add(index)
        elif kind == "response.content_part.added" and index in self.items:
            content = self.items[index].setdefault("content", [])
            content.append(copy.deepcopy(event["part"]))
        elif kind == "response.output_text.delta" and index in self.items:
            parts = self.items[index].get("content") or []
            at = event.get("content_index", 0)
            if isinstance(at, int) and 0 <= at < len(parts) and isinstance(parts[at], dict):
                parts[at]["text"] = parts[at].get("text", "") + event.get("delta", "")


def closing_events(log: list[dict[str, Any]], queued_body: dict[str, Any],
                   failed_body: dict[str, Any]) -> list[dict[str, Any]]:
    """The events that end ``log`` properly; ``failed_body`` gets the output items."""
    out: list[dict[str, Any]] = []
    number = log[-1]["sequence_number"] + 1 if log else 0

    def add(event: dict[str, Any]) -> None:
        nonlocal number
        out.append({**event, "sequence_number": number})
        number += 1

    if not log:
        add({"type": "response.created", "response": queued_body})
    items = _Items()
    for event in log:
        items.feed(event)
    for index in sorted(items.items):
        if index not in items.done:
            items.items[index]["status"] = "incomplete"
            add({"type": "response.output_item.done", "output_index": index, "item": items.items[index]})
    failed_body["output"] = [items.items[index] for index in sorted(items.items)]
    add({"type": "response.failed", "response": failed_body})
    return out
