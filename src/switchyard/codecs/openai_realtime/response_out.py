"""One realtime response as an explicit state machine: canonical events in, GA server
events out. Text blocks become assistant message items (``output_text``, or in an audio
response an ``output_audio`` part whose transcript streams as the text comes, while the
audio is added by ``audio`` and closed by ``end_audio``, since speech lags the text);
tool-call blocks become ``function_call`` items. ``finish`` closes whatever is still
open and gives ``response.done``. Every output item also enters the conversation, so
``conversation.item.added`` / ``.done`` follow the response's own item events."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.codecs.openai_realtime.session import format_wire
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    RefusalDelta,
    TextDelta,
    UsageReport,
)
from switchyard.core.usage import Usage

Status = Literal["completed", "cancelled", "failed", "incomplete"]
NewId = Callable[[str], str]
Wire = dict[str, Any]


@dataclass(slots=True)
class _Open:
    output_index: int
    item: Wire
    kind: Literal["text", "audio", "call"]
    text: list[str] = field(default_factory=list)
    text_done: bool = False
    audio_ms: int = 0
    previous: str | None = None  # the conversation item before this one


class ResponseEncoder:
    def __init__(self, response_id: str, new_id: NewId, *, audio: bool, voice: str, max_output_tokens: int | None,
                 metadata: dict[str, Any] | None = None, previous_item_id: str | None = None,
                 in_conversation: bool = True, output_format: str = "audio/pcm") -> None:
        self.response_id = response_id
        self.new_id = new_id
        self.audio_mode = audio
        self.voice = voice
        self.max_output_tokens = max_output_tokens
        self.metadata = metadata
        self.previous_item_id = previous_item_id
        self.in_conversation = in_conversation
        self.output: list[Wire] = []  # finished items, in output order
        self.items: list[Wire] = []  # every item, in output order, as it stands
        self.open: dict[int, _Open] = {}  # by canonical block index
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.failure: SwitchyardError | None = None
        self.audio_ms: dict[str, int] = {}
        self.output_format = output_format
        self.input_audio_ms = 0.0  # the user's audio in the model's context
        self.output_audio_ms = 0

    def _event(self, kind: str, **fields: Any) -> Wire:
        return {"event_id": self.new_id("event_"), "type": kind, **fields}

    def _part_event(self, kind: str, block: _Open, **fields: Any) -> Wire:
        return self._event(kind, response_id=self.response_id, item_id=block.item["id"],
                           output_index=block.output_index, content_index=0, **fields)

    def response(self, status: Literal["in_progress", "completed", "cancelled", "failed", "incomplete"],
                 details: Wire | None = None) -> Wire:
        body: Wire = {"object": "realtime.response", "id": self.response_id, "status": status,
                      "status_details": details, "output": [dict(item) for item in self.items],
                      "conversation_id": "conv_" + self.response_id[5:] if self.in_conversation else None,
                      "output_modalities": ["audio" if self.audio_mode else "text"],
                      "max_output_tokens": "inf" if self.max_output_tokens is None else self.max_output_tokens,
                      "audio": {"output": {"format": format_wire(self.output_format), "voice": self.voice}},
                      "usage": _usage(self.usage, self.input_audio_ms, self.output_audio_ms)
                      if status != "in_progress" else None,
                      "metadata": self.metadata}
        return body

    def created(self) -> list[Wire]:
        return [self._event("response.created", response=self.response("in_progress"))]

    # --- canonical events ----------------------------------------------------------------

    def feed(self, event: Event) -> list[Wire]:
        if isinstance(event, BlockStart):
            return self._start(event)
        if isinstance(event, TextDelta | RefusalDelta):
            return self._text(event.index, event.text)
        if isinstance(event, ArgumentsDelta):
            return self._arguments(event)
        if isinstance(event, BlockStop):
            return self._stop(event.index)
        if isinstance(event, UsageReport):
            self.usage = event.usage
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Failure):
            self.failure = event.error
        return []  # Start, reasoning, signatures and built-in items have no realtime event

    def _add_item(self, item: Wire, kind: Literal["text", "audio", "call"], index: int) -> list[Wire]:
        block = _Open(len(self.items), item, kind, previous=self.previous_item_id)
        self.items.append(item)
        self.open[index] = block
        out = [self._event("response.output_item.added", response_id=self.response_id,
                           output_index=block.output_index, item=dict(item))]
        if self.in_conversation:
            out.append(self._event("conversation.item.added", previous_item_id=block.previous, item=dict(item)))
            self.previous_item_id = item["id"]
        return out

    def _start(self, event: BlockStart) -> list[Wire]:
        if event.kind == "tool_call":
            item: Wire = {"id": self.new_id("item_"), "type": "function_call", "object": "realtime.item",
                    "status": "in_progress", "call_id": event.call_id or self.new_id("call_"),
                    "name": event.name or "", "arguments": ""}
            return self._add_item(item, "call", event.index)
        if event.kind not in ("text", "refusal"):
            return []
        kind: Literal["text", "audio"] = "audio" if self.audio_mode else "text"
        message: Wire = {"id": self.new_id("item_"), "type": "message", "object": "realtime.item",
                         "status": "in_progress", "role": "assistant", "content": []}
        out = self._add_item(message, kind, event.index)
        block = self.open[event.index]
        part = {"type": "audio", "transcript": ""} if kind == "audio" else {"type": "text", "text": ""}
        out.append(self._part_event("response.content_part.added", block, part=part))
        return out

    def _text(self, index: int, text: str) -> list[Wire]:
        block = self.open.get(index)
        if block is None or block.kind == "call" or not text:
            return []
        block.text.append(text)
        kind = "response.output_audio_transcript.delta" if block.kind == "audio" else "response.output_text.delta"
        return [self._part_event(kind, block, delta=text)]

    def _arguments(self, event: ArgumentsDelta) -> list[Wire]:
        block = self.open.get(event.index)
        if block is None or block.kind != "call" or not event.arguments:
            return []
        block.text.append(event.arguments)
        return [self._event("response.function_call_arguments.delta", response_id=self.response_id,
                            item_id=block.item["id"], output_index=block.output_index,
                            call_id=block.item["call_id"], delta=event.arguments)]

    def _stop(self, index: int) -> list[Wire]:
        block = self.open.get(index)
        if block is None:
            return []
        if block.kind == "audio":  # stays open for its audio; ``end_audio`` closes it
            block.text_done = True
            return []
        return self._close(index, "completed")

    # --- audio ---------------------------------------------------------------------------

    def audio(self, index: int, delta_b64: str, ms: int) -> list[Wire]:
        block = self.open.get(index)
        if block is None or block.kind != "audio":
            return []
        block.audio_ms += ms
        self.output_audio_ms += ms
        return [self._part_event("response.output_audio.delta", block, delta=delta_b64)]

    def end_audio(self, index: int) -> list[Wire]:
        return self._close(index, "completed") if index in self.open else []

    # --- the end -------------------------------------------------------------------------

    def _close(self, index: int, status: Literal["completed", "incomplete"]) -> list[Wire]:
        block = self.open.pop(index)
        text = "".join(block.text)
        out: list[Wire] = []
        item = block.item
        if block.kind == "call":
            item.update(status=status, arguments=text)
            out.append(self._event("response.function_call_arguments.done", response_id=self.response_id,
                                   item_id=item["id"], output_index=block.output_index, call_id=item["call_id"],
                                   name=item["name"], arguments=text))
        elif block.kind == "text":
            out.append(self._part_event("response.output_text.done", block, text=text))
            out.append(self._part_event("response.content_part.done", block, part={"type": "text", "text": text}))
            item.update(status=status, content=[{"type": "output_text", "text": text}])
        else:
            out.append(self._part_event("response.output_audio.done", block))
            out.append(self._part_event("response.output_audio_transcript.done", block, transcript=text))
            out.append(self._part_event("response.content_part.done", block,
                                        part={"type": "audio", "transcript": text}))
            item.update(status=status, content=[{"type": "output_audio", "transcript": text}])
            self.audio_ms[item["id"]] = block.audio_ms
        out.append(self._event("response.output_item.done", response_id=self.response_id,
                               output_index=block.output_index, item=dict(item)))
        if self.in_conversation:
            out.append(self._event("conversation.item.done", previous_item_id=block.previous, item=dict(item)))
        self.output.append(item)
        return out

    def finish(self, cancelled: str | None = None) -> list[Wire]:
        """Closes what is open and ends the response: cancelled with ``cancelled`` as the
        reason (``client_cancelled`` / ``turn_detected``), else by how the model finished."""
        status: Status
        details: Wire | None
        if cancelled is not None:
            status, details = "cancelled", {"type": "cancelled", "reason": cancelled}
        elif self.failure is not None:
            error = self.failure
            status, details = "failed", {"type": "failed", "error": {"type": error.kind.value,
                                                                      "code": error.code or error.kind.value,
                                                                      "message": error.message}}
        elif self.finish_reason in ("length", "content_filter"):
            reason = "max_output_tokens" if self.finish_reason == "length" else "content_filter"
            status, details = "incomplete", {"type": "incomplete", "reason": reason}
        else:
            status, details = "completed", None
        out: list[Wire] = []
        for index in list(self.open):
            out.extend(self._close(index, "completed" if status == "completed" else "incomplete"))
        out.append(self._event("response.done", response=self.response(status, details)))
        return out


# OpenAI's count of audio tokens: user audio 1 token per 100 ms, assistant audio 1 per 50 ms
INPUT_AUDIO_MS_PER_TOKEN, OUTPUT_AUDIO_MS_PER_TOKEN = 100, 50


def _usage(usage: Usage | None, input_audio_ms: float, output_audio_ms: int) -> Wire:
    """The model's own text tokens, and the audio's tokens counted as OpenAI counts them
    (the model read the audio's transcript: its tokens are among the text tokens too)."""
    usage = usage or Usage()
    cached = usage.cached_input_tokens
    audio_in = math.ceil(input_audio_ms / INPUT_AUDIO_MS_PER_TOKEN)
    audio_out = math.ceil(output_audio_ms / OUTPUT_AUDIO_MS_PER_TOKEN)
    text_in, text_out = usage.input_tokens, usage.output_tokens
    return {"total_tokens": text_in + audio_in + text_out + audio_out, "input_tokens": text_in + audio_in,
            "output_tokens": text_out + audio_out,
            "input_token_details": {"cached_tokens": cached, "text_tokens": text_in, "audio_tokens": audio_in,
                                    "image_tokens": 0,
                                    "cached_tokens_details": {"text_tokens": cached, "audio_tokens": 0,
                                                              "image_tokens": 0}},
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out}}
