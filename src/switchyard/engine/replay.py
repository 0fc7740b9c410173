"""A finished ``Result`` as the events that would have produced it."""

from __future__ import annotations

from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    ItemDone,
    ReasoningDelta,
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.items import FunctionCall, FunctionCallOutput, Message, Reasoning, RefusalPart, TextPart
from switchyard.core.result import Result


def events_from_result(result: Result) -> list[Event]:
    events: list[Event] = [Start(id=result.id, model=result.model)]
    for choice in result.choices:
        c = choice.index
        index = 0
        for item in choice.items:
            match item:
                case Reasoning():
                    events.append(BlockStart(index, "reasoning", encrypted=item.encrypted, choice=c))
                    if item.text:
                        events.append(ReasoningDelta(index, item.text, choice=c))
                    if item.signature:
                        events.append(SignatureDelta(index, item.signature, choice=c))
                case FunctionCall():
                    events.append(BlockStart(index, "tool_call", item.call_id, item.name, choice=c))
                    events.append(ArgumentsDelta(index, item.arguments, choice=c))
                case Message(content=[RefusalPart(refusal=text)]):
                    events.append(BlockStart(index, "refusal", choice=c))
                    events.append(RefusalDelta(index, text, choice=c))
                case Message():
                    events.append(BlockStart(index, "text", choice=c))
                    text = "".join(p.text for p in item.content if isinstance(p, TextPart))
                    events.append(TextDelta(index, text, logprobs=choice.logprobs, choice=c))
                case FunctionCallOutput():
                    continue
                case _:  # built-in tool and vendor items come whole
                    events.append(ItemDone(item, choice=c))
                    continue
            events.append(BlockStop(index, choice=c))
            index += 1
        events.append(Finish(choice.finish_reason, choice.stop_sequence, choice=c))
    events.append(UsageReport(result.usage))
    return events
