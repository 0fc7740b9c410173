"""Checks a Responses event stream for order, pairing and index consistency."""

from __future__ import annotations

from typing import Any

from tests.spec import validate_openai

LIFECYCLE_END = ("response.completed", "response.incomplete", "response.failed")


def check_stream(events: list[dict[str, Any]], *, first_sequence: int = 0, spec: bool = True) -> None:
    """Raises AssertionError on the first inconsistency."""
    assert events, "empty stream"
    for offset, event in enumerate(events):
        assert event["sequence_number"] == first_sequence + offset, (offset, event)
        if spec:
            validate_openai(event, "ResponseStreamEvent")
    if first_sequence == 0:
        assert events[0]["type"] == "response.created", events[0]["type"]
    added: dict[int, dict[str, Any]] = {}
    done: set[int] = set()
    parts: set[tuple[int, int]] = set()
    for event in events:
        kind = event["type"]
        if kind == "response.output_item.added":
            index = event["output_index"]
            assert index not in added, f"output_index {index} added twice"
            assert index == len(added) or first_sequence > 0, f"output_index {index} out of order"
            added[index] = event["item"]
        elif kind == "response.output_item.done":
            index = event["output_index"]
            assert index in added or first_sequence > 0, f"done before added: {index}"
            if index in added:
                assert event["item"]["id"] == added[index]["id"]
            done.add(index)
        elif kind == "response.content_part.added":
            parts.add((event["output_index"], event["content_index"]))
        elif "item_id" in event and "output_index" in event and first_sequence == 0:
            index = event["output_index"]
            assert index in added, f"{kind} for unknown output_index {index}"
            assert event["item_id"] == added[index]["id"], f"{kind} item_id mismatch"
            assert index not in done, f"{kind} after output_item.done"
            if "content_index" in event and kind.startswith("response.output_text"):
                assert (index, event["content_index"]) in parts, f"{kind} before content_part.added"
    if first_sequence == 0:
        assert set(added) == done, f"items added but never done: {set(added) - done}"
    assert events[-1]["type"] in LIFECYCLE_END, events[-1]["type"]
    final = events[-1]["response"]
    assert [i["id"] for i in final["output"]] == [added[k]["id"] for k in sorted(added)] or first_sequence > 0
