"""A finished generation, and the fold that builds it from events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    FinishReason,
    ItemDone,
    ItemStart,
    ReasoningDelta,
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
    TokenLogprob,
    UsageReport,
)
from switchyard.core.items import (
    FunctionCall,
    Item,
    Message,
    Reasoning,
    RefusalPart,
    TextPart,
)
from switchyard.core.usage import Usage


@dataclass(slots=True)
class Choice:
    index: int
    items: list[Item] = field(default_factory=list)
    finish_reason: FinishReason = "stop"
    stop_sequence: str | None = None
    logprobs: list[TokenLogprob] | None = None

    def text(self) -> str:
        return "".join(i.text() for i in self.items if isinstance(i, Message))

    def tool_calls(self) -> list[FunctionCall]:
        return [i for i in self.items if isinstance(i, FunctionCall)]

    def reasoning(self) -> list[Reasoning]:
        return [i for i in self.items if isinstance(i, Reasoning)]


@dataclass(slots=True)
class Result:
    id: str | None = None
    model: str | None = None
    choices: list[Choice] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


class Folder:
    """Accumulates events into a ``Result``; feed it with ``add``."""

    def __init__(self) -> None:
        self.result = Result()
        self._open: dict[tuple[int, int], Item] = {}

    def _choice(self, n: int) -> Choice:
        while len(self.result.choices) <= n:
            self.result.choices.append(Choice(index=len(self.result.choices)))
        return self.result.choices[n]

    def add(self, event: Event) -> None:
        match event:
            case Start(id=rid, model=model, usage=usage):
                self.result.id = rid
                self.result.model = model
                if usage is not None:
                    self.result.usage = usage
            case BlockStart(index=i, kind=kind, choice=c):
                self._open[(c, i)] = self._new_item(event, kind)
                self._choice(c).items.append(self._open[(c, i)])
            case TextDelta():
                self._text(event)
            case RefusalDelta(index=i, text=text, choice=c):
                item = self._open[(c, i)]
                assert isinstance(item, Message) and isinstance(item.content[0], RefusalPart)
                item.content[0].refusal += text
            case ReasoningDelta(index=i, text=text, choice=c):
                item = self._open[(c, i)]
                assert isinstance(item, Reasoning)
                item.text += text
            case SignatureDelta(index=i, signature=sig, choice=c):
                item = self._open[(c, i)]
                assert isinstance(item, Reasoning)
                item.signature = (item.signature or "") + sig
            case ArgumentsDelta(index=i, arguments=args, choice=c):
                item = self._open[(c, i)]
                assert isinstance(item, FunctionCall)
                item.arguments += args
            case BlockStop(index=i, choice=c):
                self._open.pop((c, i), None)
            case UsageReport(usage=usage):
                self.result.usage = usage
            case Finish(reason=reason, stop_sequence=seq, choice=c):
                choice = self._choice(c)
                choice.finish_reason = reason
                choice.stop_sequence = seq
            case ItemStart() | ItemDone():
                self._whole(event)
            case Failure(error=error):
                raise error

    def _text(self, event: TextDelta) -> None:
        item = self._open[(event.choice, event.index)]
        assert isinstance(item, Message)
        part = item.content[0]
        assert isinstance(part, TextPart)
        part.text += event.text
        if event.logprobs is not None:
            choice = self._choice(event.choice)
            choice.logprobs = (choice.logprobs or []) + event.logprobs

    def _whole(self, event: ItemStart | ItemDone) -> None:
        """A whole item joins the result when done; a started one is not content yet."""
        if isinstance(event, ItemDone):
            self._choice(event.choice).items.append(event.item)

    @staticmethod
    def _new_item(event: BlockStart, kind: str) -> Item:
        if kind == "text":
            return Message(role="assistant", content=[TextPart("")])
        if kind == "refusal":
            return Message(role="assistant", content=[RefusalPart("")])
        if kind == "reasoning":
            return Reasoning(encrypted=event.encrypted)
        return FunctionCall(call_id=event.call_id or "", name=event.name or "", arguments="")


def fold(events: Iterable[Event]) -> Result:
    folder = Folder()
    for event in events:
        folder.add(event)
    return folder.result


async def afold(events: AsyncIterator[Event]) -> Result:
    folder = Folder()
    async for event in events:
        folder.add(event)
    return folder.result
