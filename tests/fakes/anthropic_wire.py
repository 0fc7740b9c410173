"""Messages API answers as Anthropic sends them (shapes from the API reference's
streaming examples), for scripting the fake upstream."""

from __future__ import annotations

from typing import Any

import orjson

from tests.fakes.upstream import Reply, Stream


def usage(input_tokens: int = 12, output_tokens: int = 6, cache_read: int = 0) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": cache_read,
            "service_tier": "standard"}


def message(
    content: list[dict[str, Any]] | None = None,
    *,
    stop_reason: str = "end_turn",
    model: str = "claude-upstream",
    use: dict[str, Any] | None = None,
) -> Reply:
    return Reply({
        "id": "msg_upstream1", "type": "message", "role": "assistant", "model": model,
        "content": content if content is not None else [{"type": "text", "text": "Hello!"}],
        "stop_reason": stop_reason, "stop_sequence": None, "usage": use or usage(),
    })


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(id_: str, name: str, input_: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": id_, "name": name, "input": input_}


def thinking(value: str, signature: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": value, "signature": signature}


def stream(
    blocks: list[dict[str, Any]] | None = None,
    *,
    stop_reason: str | None = None,
    use: dict[str, Any] | None = None,
    delay: float = 0.0,
    hang: float = 0.0,
    drop_after: int | None = None,
    error_after: int | None = None,
) -> Stream:
    """message_start, then per block content_block_start / deltas (text in three
    pieces, thinking then signature, tool input as partial_json fragments) /
    content_block_stop, a ping, message_delta, message_stop."""
    blocks = blocks if blocks is not None else [text("Hello!")]
    u = use or usage()
    start_usage = {**u, "output_tokens": 1}
    frames: list[tuple[str | None, Any]] = [("message_start", {"type": "message_start", "message": {
        "id": "msg_upstream1", "type": "message", "role": "assistant", "model": "claude-upstream",
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
    for i, block in enumerate(blocks):
        frames.extend(_block_frames(i, block))
        if i == 0:
            frames.append(("ping", {"type": "ping"}))
    has_tool = any(b["type"] == "tool_use" for b in blocks)
    reason = stop_reason or ("tool_use" if has_tool else "end_turn")
    frames.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": reason, "stop_sequence": None},
                                     "usage": {"output_tokens": u["output_tokens"]}}))
    frames.append(("message_stop", {"type": "message_stop"}))
    if error_after is not None:
        frames = frames[:error_after]
        frames.append(("error", {"type": "error",
                                 "error": {"type": "overloaded_error", "message": "Overloaded"}}))
        return Stream(frames, delay=delay)
    if drop_after is not None:
        return Stream(frames[:drop_after], delay=delay, drop=True)
    return Stream(frames, delay=delay, hang=hang)


def _block_frames(i: int, block: dict[str, Any]) -> list[tuple[str | None, Any]]:
    kind = block["type"]
    out: list[tuple[str | None, Any]] = []

    def delta(d: dict[str, Any]) -> None:
        out.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}))

    if kind == "text":
        out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                            "content_block": {"type": "text", "text": ""}}))
        value = block["text"]
        third = max(1, len(value) // 3)
        for piece in (value[:third], value[third:2 * third], value[2 * third:]):
            if piece:
                delta({"type": "text_delta", "text": piece})
    elif kind == "thinking":
        out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                            "content_block": {"type": "thinking", "thinking": "",
                                                              "signature": ""}}))
        delta({"type": "thinking_delta", "thinking": block["thinking"]})
        delta({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "tool_use":
        out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                            "content_block": {"type": "tool_use", "id": block["id"],
                                                              "name": block["name"], "input": {}}}))
        raw = orjson.dumps(block["input"]).decode()
        delta({"type": "input_json_delta", "partial_json": ""})
        step = max(1, len(raw) // 4)
        for k in range(0, len(raw), step):
            delta({"type": "input_json_delta", "partial_json": raw[k:k + step]})
    out.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    return out


def error(status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply({"type": "error", "error": {"type": type_, "message": message}},
                 status=status, headers=headers or {})


THINKING_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def refuse_as_anthropic(path: str, body: Any) -> Reply | None:
    """The 400 Anthropic answers when thinking is enabled and the last assistant turn
    calls tools without starting with its thinking block (message as the API words it)."""
    if not path.startswith("/v1/messages") or not isinstance(body, dict):
        return None
    if (body.get("thinking") or {}).get("type") != "enabled":
        return None
    messages = body.get("messages") or []
    last = next((n for n in range(len(messages) - 1, -1, -1) if messages[n].get("role") == "assistant"), None)
    if last is None or not isinstance(messages[last].get("content"), list):
        return None
    blocks = messages[last]["content"]
    if not any(b.get("type") == "tool_use" for b in blocks) or blocks[0].get("type") in (
            "thinking", "redacted_thinking"):
        return None
    return error(400, "invalid_request_error", (
        f"messages.{last}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        f"`{blocks[0].get('type')}`. When `thinking` is enabled, a final `assistant` message must start "
        "with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
        "We recommend you include thinking blocks from previous turns. To avoid this requirement, "
        f"disable `thinking`. Please consult our documentation at {THINKING_DOCS}"))
