"""The streaming vocabulary. A non-streaming result is the fold of its events.

Content arrives in blocks, numbered from 0 within a choice, each opened by
``BlockStart`` and closed by ``BlockStop``; deltas name their block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from switchyard.core.errors import SwitchyardError
from switchyard.core.tool_items import BuiltinItem, PartialImage, VendorItem
from switchyard.core.usage import Usage

BlockKind = Literal["text", "reasoning", "tool_call", "refusal"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "pause"]


@dataclass(slots=True)
class TopLogprob:
    token: str
    logprob: float
    bytes: list[int] | None = None


@dataclass(slots=True)
class TokenLogprob:
    token: str
    logprob: float
    bytes: list[int] | None = None
    top: list[TopLogprob] = field(default_factory=list)


@dataclass(slots=True)
class Start:
    """The response has begun; ``id`` and ``model`` as the backend reports them."""

    id: str | None = None
    model: str | None = None
    usage: Usage | None = None


@dataclass(slots=True)
class BlockStart:
    index: int
    kind: BlockKind
    call_id: str | None = None
    name: str | None = None
    encrypted: str | None = None
    choice: int = 0


@dataclass(slots=True)
class TextDelta:
    index: int
    text: str
    logprobs: list[TokenLogprob] | None = None
    choice: int = 0


@dataclass(slots=True)
class ReasoningDelta:
    index: int
    text: str
    choice: int = 0


@dataclass(slots=True)
class SignatureDelta:
    index: int
    signature: str
    choice: int = 0


@dataclass(slots=True)
class ArgumentsDelta:
    index: int
    arguments: str
    choice: int = 0


@dataclass(slots=True)
class RefusalDelta:
    index: int
    text: str
    choice: int = 0


@dataclass(slots=True)
class BlockStop:
    index: int
    choice: int = 0


@dataclass(slots=True)
class UsageReport:
    """Cumulative usage so far; the last one wins."""

    usage: Usage


@dataclass(slots=True)
class Finish:
    reason: FinishReason
    stop_sequence: str | None = None
    choice: int = 0


@dataclass(slots=True)
class ItemStart:
    """A built-in tool call began (it is ``in_progress``); an ``ItemDone`` with the same
    item ``id`` follows."""

    item: BuiltinItem
    choice: int = 0


@dataclass(slots=True)
class ItemProgress:
    """Part of a started built-in item's outcome shown before its ``ItemDone`` (a partial
    image); a format with no place for it leaves it out."""

    item_id: str
    partial: PartialImage
    choice: int = 0


@dataclass(slots=True)
class ItemDone:
    """A whole item: a built-in tool call that ran, or vendor content a backend sent."""

    item: BuiltinItem | VendorItem
    choice: int = 0


@dataclass(slots=True)
class Failure:
    """The stream broke; nothing follows."""

    error: SwitchyardError


Event = (
    Start
    | BlockStart
    | TextDelta
    | ReasoningDelta
    | SignatureDelta
    | ArgumentsDelta
    | RefusalDelta
    | BlockStop
    | UsageReport
    | Finish
    | ItemStart
    | ItemProgress
    | ItemDone
    | Failure
)
