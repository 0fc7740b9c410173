"""An upstream ``chat.completion`` body to canonical events."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.wire import error_from_body, finish_in, logprobs_in, usage_in
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    Start,
    TextDelta,
    UsageReport,
)


def reasoning_text(message: dict[str, Any]) -> str:
    """DeepSeek's ``reasoning_content``, or the ``reasoning`` string of vLLM/OpenRouter."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def decode_response(body: object) -> list[Event]:
    """Events whose fold is the completion: Start, each choice's blocks and Finish, usage."""
    if not isinstance(body, dict) or ("error" in body and not body.get("choices")):
        return [Failure(error_from_body(body))]
    events: list[Event] = [Start(id=_str(body.get("id")), model=_str(body.get("model")))]
    choices = body.get("choices")
    for position, choice in enumerate(choices if isinstance(choices, list) else []):
        if not isinstance(choice, dict):
            continue
        index = choice.get("index")
        c = index if isinstance(index, int) else position
        message = choice.get("message")
        events.extend(_blocks(message if isinstance(message, dict) else {}, choice, c))
        events.append(Finish(reason=finish_in(choice.get("finish_reason")), choice=c))
    if isinstance(body.get("usage"), dict):
        events.append(UsageReport(usage_in(body["usage"])))
    return events


def _blocks(message: dict[str, Any], choice: dict[str, Any], c: int) -> list[Event]:
    events: list[Event] = []
    n = 0
    reasoning = reasoning_text(message)
    if reasoning:
        events += [BlockStart(n, "reasoning", choice=c), ReasoningDelta(n, reasoning, choice=c),
                   BlockStop(n, choice=c)]
        n += 1
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    calls = _calls(message)
    refusal = message.get("refusal")
    if (isinstance(content, str) and content) or (content == "" and not calls and not refusal):
        events += [BlockStart(n, "text", choice=c),
                   TextDelta(n, content, logprobs=logprobs_in(choice), choice=c),
                   BlockStop(n, choice=c)]
        n += 1
    if isinstance(refusal, str) and refusal:
        events += [BlockStart(n, "refusal", choice=c), RefusalDelta(n, refusal, choice=c),
                   BlockStop(n, choice=c)]
        n += 1
    for k, (call_id, name, arguments) in enumerate(calls):
        events.append(BlockStart(n, "tool_call", call_id=call_id or f"call_{c}_{k}", name=name,
                                 choice=c))
        if arguments:
            events.append(ArgumentsDelta(n, arguments, choice=c))
        events.append(BlockStop(n, choice=c))
        n += 1
    return events


def _calls(message: dict[str, Any]) -> list[tuple[str, str, str]]:
    raw = message.get("tool_calls")
    calls = raw if isinstance(raw, list) else []
    if isinstance(message.get("function_call"), dict):
        calls = [*calls, {"function": message["function_call"]}]
    out = []
    for call in calls:
        if not isinstance(call, dict):
            continue
        raw_fn = call.get("function")
        fn: dict[str, Any] = raw_fn if isinstance(raw_fn, dict) else {}
        out.append((_str(call.get("id")) or "", _str(fn.get("name")) or "",
                    _str(fn.get("arguments")) or ""))
    return out


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
