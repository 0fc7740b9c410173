"""The wire objects: assistant, thread, thread.message, and their deletions."""

from __future__ import annotations

from typing import Any, Literal

MessageStatus = Literal["in_progress", "incomplete", "completed"]


def assistant_object(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored assistant as the API shows it (``reasoning_effort`` only when set)."""
    body = {key: stored.get(key) for key in ("id", "object", "created_at", "name", "description", "model",
                                              "instructions", "tools", "tool_resources", "metadata", "temperature",
                                              "top_p", "response_format")}
    body["object"] = "assistant"
    if stored.get("reasoning_effort") is not None:
        body["reasoning_effort"] = stored["reasoning_effort"]
    return body


def thread_object(id: str, created_at: int, tool_resources: dict[str, Any], metadata: dict[str, Any]
                  ) -> dict[str, Any]:
    return {"id": id, "object": "thread", "created_at": created_at, "tool_resources": tool_resources,
            "metadata": metadata}


def message_object(*, id: str, thread_id: str, created_at: int, role: str, content: list[dict[str, Any]],
                   status: MessageStatus = "completed", assistant_id: str | None = None, run_id: str | None = None,
                   attachments: list[dict[str, Any]] | None = None, metadata: dict[str, Any] | None = None,
                   incomplete_details: dict[str, Any] | None = None, completed_at: int | None = None,
                   incomplete_at: int | None = None) -> dict[str, Any]:
    """A ``thread.message`` with every field the API always sends."""
    return {
        "id": id, "object": "thread.message", "created_at": created_at, "thread_id": thread_id, "status": status,
        "incomplete_details": incomplete_details, "completed_at": completed_at, "incomplete_at": incomplete_at,
        "role": role, "content": content, "assistant_id": assistant_id, "run_id": run_id,
        "attachments": list(attachments or []), "metadata": dict(metadata or {}),
    }


def deleted_object(id: str, kind: Literal["assistant", "thread", "thread.message"]) -> dict[str, Any]:
    return {"id": id, "object": f"{kind}.deleted", "deleted": True}
