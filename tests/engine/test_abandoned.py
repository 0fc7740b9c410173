"""The stored stream of a background response whose runner died gets a proper end."""

from __future__ import annotations

from switchyard.engine.responses.abandoned import closing_events
from switchyard.engine.responses.stored_request import body_to_run, to_store
from switchyard.store.secret_box import SecretBox

QUEUED = {"id": "resp_1", "status": "queued", "output": []}


def _failed() -> dict:
    return {"id": "resp_1", "status": "failed", "output": [], "error": {"code": "server_error", "message": "x"}}


def test_an_empty_log_starts_with_created_and_ends_failed() -> None:
    body = _failed()
    events = closing_events([], QUEUED, body)
    assert [(e["type"], e["sequence_number"]) for e in events] == [("response.created", 0), ("response.failed", 1)]
    assert events[0]["response"] == QUEUED and events[1]["response"] is body


def test_open_items_are_closed_incomplete_with_the_text_so_far() -> None:
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    done = {"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "s", "tools": [], "error": None}
    log = [
        {"type": "response.created", "sequence_number": 0, "response": QUEUED},
        {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0, "item": done},
        {"type": "response.output_item.done", "sequence_number": 2, "output_index": 0, "item": done},
        {"type": "response.output_item.added", "sequence_number": 3, "output_index": 1, "item": item},
        {"type": "response.content_part.added", "sequence_number": 4, "output_index": 1, "item_id": "msg_1",
         "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}},
        {"type": "response.output_text.delta", "sequence_number": 5, "output_index": 1, "item_id": "msg_1",
         "content_index": 0, "delta": "Hel"},
        {"type": "response.output_text.delta", "sequence_number": 6, "output_index": 1, "item_id": "msg_1",
         "content_index": 0, "delta": "lo"},
    ]
    body = _failed()
    events = closing_events(log, QUEUED, body)
    assert [(e["type"], e["sequence_number"]) for e in events] == [
        ("response.output_item.done", 7), ("response.failed", 8)]
    closed = events[0]["item"]
    assert closed["status"] == "incomplete" and closed["content"][0]["text"] == "Hello"
    assert [i["id"] for i in body["output"]] == ["mcpl_1", "msg_1"]
    assert item["content"] == []  # the logged events are not changed


def test_mcp_secrets_leave_the_stored_body_and_come_back_sealed_only_for_background() -> None:
    box = SecretBox(b"s")
    body = {"model": "m", "tools": [
        {"type": "function", "name": "f"},
        {"type": "mcp", "server_label": "a", "server_url": "https://x", "authorization": "tok",
         "headers": {"X-Key": "k"}},
    ]}
    foreground = to_store(body, [], "resp_1", box, keep_secrets=False)
    assert "tok" not in repr(foreground) and "X-Key" not in repr(foreground)
    assert body_to_run(foreground, "resp_1", box)["tools"][1] == {"type": "mcp", "server_label": "a",
                                                                  "server_url": "https://x"}
    background = to_store(body, [], "resp_1", box, keep_secrets=True)
    assert "tok" not in repr(background) and "X-Key" not in repr(background)
    assert body_to_run(background, "resp_1", box) == body
