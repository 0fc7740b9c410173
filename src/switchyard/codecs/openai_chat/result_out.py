"""A canonical ``Result`` as a ``chat.completion`` object."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.wire import finish_out, logprobs_out, usage_out
from switchyard.core.items import Message, RefusalPart, TextPart
from switchyard.core.result import Choice, Result


def encode_result(
    result: Result,
    *,
    id: str,
    model: str,
    created: int,
    system_fingerprint: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [_choice(c) for c in result.choices],
        "usage": usage_out(result.usage),
    }
    if system_fingerprint is not None:
        body["system_fingerprint"] = system_fingerprint
    return body


def _choice(choice: Choice) -> dict[str, Any]:
    messages = [i for i in choice.items if isinstance(i, Message)]
    texts = [p.text for m in messages for p in m.content if isinstance(p, TextPart)]
    refusal = "".join(p.refusal for m in messages for p in m.content if isinstance(p, RefusalPart))
    calls = choice.tool_calls()
    content: str | None = "".join(texts)
    if not texts and (calls or refusal):
        content = None
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": refusal or None,
        "annotations": [],
    }
    if calls:
        message["tool_calls"] = [
            {
                "id": c.call_id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in calls
        ]
    reasoning = "".join(r.text for r in choice.reasoning())
    if reasoning:
        message["reasoning_content"] = reasoning
    logprobs = None
    if choice.logprobs is not None:
        logprobs = {"content": logprobs_out(choice.logprobs), "refusal": None}
    return {
        "index": choice.index,
        "message": message,
        "logprobs": logprobs,
        "finish_reason": finish_out(choice.finish_reason),
    }
