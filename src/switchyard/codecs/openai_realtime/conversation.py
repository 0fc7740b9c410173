"""A session's state as an explicit state machine: its conversation (items in order),
its input audio buffer and whether a response is being generated. Each transition checks
that it is allowed and raises ``SwitchyardError`` naming the field when it is not."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from switchyard.core.errors import invalid

BYTES_PER_MS = 48  # 16-bit mono at 24 kHz
MIN_COMMIT_MS = 100
MAX_BUFFER_BYTES = 15 * 1024 * 1024  # OpenAI's limit on the input audio buffer
MAX_ITEMS = 4096


class Phase(enum.Enum):
    IDLE = "idle"
    RESPONDING = "responding"


def _missing(item_id: str, param: str = "item_id") -> Exception:
    return invalid(f"Item with item_id '{item_id}' not found.", param, "item_not_found")


@dataclass(slots=True)
class Conversation:
    items: list[dict[str, Any]] = field(default_factory=list)
    audio_ms: dict[str, int] = field(default_factory=dict)  # an assistant item's audio length
    input_audio_ms: dict[str, float] = field(default_factory=dict)  # a committed user turn's audio length

    def index(self, item_id: str) -> int | None:
        return next((i for i, item in enumerate(self.items) if item["id"] == item_id), None)

    def last_id(self) -> str | None:
        return self.items[-1]["id"] if self.items else None

    def add(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Adds ``item`` after ``previous_item_id`` (at the end when None, first when
        ``root``); returns the id of the item before it."""
        if self.index(item["id"]) is not None:
            raise invalid(f"Item with id '{item['id']}' already exists in the conversation.", "item.id",
                          "item_already_exists")
        if len(self.items) >= MAX_ITEMS:
            raise invalid(f"The conversation holds at most {MAX_ITEMS} items; delete some first.", "item",
                          "conversation_full")
        if previous_item_id is None:
            before = self.last_id()
            self.items.append(item)
            return before
        if previous_item_id == "root":
            self.items.insert(0, item)
            return None
        at = self.index(previous_item_id)
        if at is None:
            raise _missing(previous_item_id, "previous_item_id")
        self.items.insert(at + 1, item)
        return previous_item_id

    def forget_before(self, keep: int) -> None:
        """Drops all but the last ``keep`` items."""
        drop = max(0, len(self.items) - keep)
        for item in self.items[:drop]:
            self.audio_ms.pop(item["id"], None)
            self.input_audio_ms.pop(item["id"], None)
        del self.items[:drop]

    def get(self, item_id: str) -> dict[str, Any]:
        at = self.index(item_id)
        if at is None:
            raise _missing(item_id)
        return self.items[at]

    def delete(self, item_id: str) -> None:
        at = self.index(item_id)
        if at is None:
            raise _missing(item_id)
        del self.items[at]
        self.audio_ms.pop(item_id, None)
        self.input_audio_ms.pop(item_id, None)

    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        """The assistant's audio was heard only up to ``audio_end_ms``: its transcript is cut
        in proportion (the voice speaks at an even pace), so the model does not see text the
        user never heard."""
        item = self.get(item_id)
        if item["type"] != "message" or item["role"] != "assistant":
            raise invalid("Only assistant message items can be truncated.", "item_id", "invalid_value")
        content = item["content"]
        if content_index >= len(content) or content[content_index]["type"] != "output_audio":
            raise invalid(f"Invalid 'content_index': item '{item_id}' has no audio content at index "
                          f"{content_index}.", "content_index", "invalid_value")
        total = self.audio_ms.get(item_id, 0)
        if audio_end_ms > total:
            raise invalid(f"Invalid 'audio_end_ms': {audio_end_ms} is longer than the item's audio ({total} ms).",
                          "audio_end_ms", "invalid_value")
        transcript = content[content_index].get("transcript") or ""
        keep = round(len(transcript) * audio_end_ms / total) if total else 0
        content[content_index] = {**content[content_index], "transcript": transcript[:keep]}
        self.audio_ms[item_id] = audio_end_ms


@dataclass(slots=True)
class InputBuffer:
    """Input audio not yet committed (16-bit PCM, 24 kHz, mono)."""

    data: bytearray = field(default_factory=bytearray)

    @property
    def ms(self) -> float:
        return len(self.data) / BYTES_PER_MS

    def append(self, audio: bytes) -> None:
        if len(self.data) + len(audio) > MAX_BUFFER_BYTES:
            raise invalid(f"The input audio buffer holds at most {MAX_BUFFER_BYTES} bytes (about "
                          f"{MAX_BUFFER_BYTES // BYTES_PER_MS // 1000} s); commit or clear it first.", "audio",
                          "input_audio_buffer_full")
        self.data.extend(audio)

    def keep_last(self, ms: float) -> None:
        """Drops all but the last ``ms`` (audio before speech that no turn will use)."""
        keep = int(ms * BYTES_PER_MS) // 2 * 2
        if len(self.data) > keep:
            del self.data[:len(self.data) - keep]

    def clear(self) -> None:
        self.data.clear()

    def take(self, start_ms: float = 0.0, end_ms: float | None = None) -> bytes:
        """The audio from ``start_ms`` to ``end_ms`` (to the end when None); everything up to
        the end taken leaves the buffer."""
        start = int(start_ms * BYTES_PER_MS) // 2 * 2
        end = len(self.data) if end_ms is None else min(len(self.data), int(end_ms * BYTES_PER_MS) // 2 * 2)
        chunk = bytes(self.data[start:end])
        del self.data[:end]
        return chunk

    def check_commit(self) -> None:
        if self.ms < MIN_COMMIT_MS:
            raise invalid(f"Error committing input audio buffer: buffer too small. Expected at least "
                          f"{MIN_COMMIT_MS}ms of audio, but buffer only has {self.ms:.2f}ms of audio.", None,
                          "input_audio_buffer_commit_empty")


@dataclass(slots=True)
class SessionState:
    conversation: Conversation = field(default_factory=Conversation)
    buffer: InputBuffer = field(default_factory=InputBuffer)
    phase: Phase = Phase.IDLE
    response_id: str | None = None

    def begin_response(self, response_id: str) -> None:
        if self.phase is Phase.RESPONDING:
            raise invalid(f"Conversation already has an active response in progress: {self.response_id}. Wait "
                          "until the response is finished before creating a new one.", None,
                          "conversation_already_has_active_response")
        self.phase, self.response_id = Phase.RESPONDING, response_id

    def end_response(self, response_id: str) -> None:
        if self.response_id == response_id:
            self.phase, self.response_id = Phase.IDLE, None

    def check_cancel(self, response_id: str | None) -> str:
        if self.phase is not Phase.RESPONDING or self.response_id is None:
            raise invalid("Cancellation failed: no active response found.", None, "response_cancel_not_active")
        if response_id is not None and response_id != self.response_id:
            raise invalid(f"Cancellation failed: response '{response_id}' is not the active response.",
                          "response_id", "response_cancel_not_active")
        return self.response_id
