"""Chat Completions answers as OpenAI sends them (shapes from the API reference
and recorded streams), for scripting the fake upstream."""

from __future__ import annotations

from typing import Any

from tests.fakes.upstream import Reply, Stream

CREATED = 1_700_000_000


def sent_texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of each message of a Chat Completions request the fake received."""
    out = []
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content)
        out.append((message["role"], content or ""))
    return out


def usage(prompt: int = 11, completion: int = 7, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def completion(
    text: str | None = "Hello!",
    *,
    tool_calls: list[tuple[str, str, str]] | None = None,
    finish_reason: str = "stop",
    reasoning: str | None = None,
    model: str = "gpt-upstream",
    use: dict[str, Any] | None = None,
) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in tool_calls
        ]
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return Reply({
        "id": "chatcmpl-upstream1", "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": use or usage(), "system_fingerprint": "fp_fake", "service_tier": "default",
    })


def _chunk(delta: dict[str, Any], finish: str | None = None, model: str = "gpt-upstream") -> dict[str, Any]:
    return {
        "id": "chatcmpl-upstream1", "object": "chat.completion.chunk", "created": CREATED,
        "model": model, "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def stream(
    pieces: list[str] = ("Hel", "lo", "!"),  # type: ignore[assignment]
    *,
    tool_calls: list[tuple[str, str, list[str]]] | None = None,
    reasoning: list[str] | None = None,
    finish_reason: str | None = None,
    use: dict[str, Any] | None = None,
    delay: float = 0.0,
    hang: float = 0.0,
    drop_after: int | None = None,
) -> Stream:
    """Role chunk, reasoning_content deltas, content deltas, tool-call deltas
    (first with id and name, then argument fragments), the finish chunk, and the
    usage chunk with empty choices, then ``[DONE]``."""
    chunks: list[dict[str, Any]] = [_chunk({"role": "assistant", "content": "", "refusal": None})]
    for piece in reasoning or []:
        chunks.append(_chunk({"reasoning_content": piece}))
    for piece in pieces:
        chunks.append(_chunk({"content": piece}))
    for n, (cid, name, fragments) in enumerate(tool_calls or []):
        chunks.append(_chunk({"tool_calls": [{"index": n, "id": cid, "type": "function",
                                              "function": {"name": name, "arguments": ""}}]}))
        for fragment in fragments:
            chunks.append(_chunk({"tool_calls": [{"index": n, "function": {"arguments": fragment}}]}))
    finish = finish_reason or ("tool_calls" if tool_calls else "stop")
    chunks.append(_chunk({}, finish))
    final = _chunk({})
    final["choices"] = []
    final["usage"] = use or usage()
    chunks.append(final)
    frames: list[tuple[str | None, Any]] = [(None, c) for c in chunks]
    if drop_after is not None:
        return Stream(frames[:drop_after], delay=delay, drop=True)
    frames.append((None, "[DONE]"))
    return Stream(frames, delay=delay, hang=hang)


def error(status: int, message: str, type_: str = "invalid_request_error",
          headers: dict[str, str] | None = None) -> Reply:
    return Reply({"error": {"message": message, "type": type_, "param": None, "code": None}},
                 status=status, headers=headers or {})
