"""Responses API answers as OpenAI sends them (event names and shapes from the
API reference), for scripting the fake upstream."""

from __future__ import annotations

from typing import Any

from tests.fakes.upstream import Reply, Stream

USAGE = {"input_tokens": 21, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 9,
         "output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 30}


def _response(status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "resp_upstream", "object": "response", "created_at": 1_700_000_000, "status": status,
            "model": "gpt-upstream", "output": output, "usage": USAGE if status != "in_progress" else None,
            "error": None, "incomplete_details": None}


def message(text: str) -> dict[str, Any]:
    return {"id": "msg_up", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": "fc_up", "type": "function_call", "call_id": call_id, "name": name,
            "arguments": arguments, "status": "completed"}


def reasoning(summary: str, encrypted: str) -> dict[str, Any]:
    return {"id": "rs_up", "type": "reasoning", "summary": [{"type": "summary_text", "text": summary}],
            "encrypted_content": encrypted}


def reply(*output: dict[str, Any]) -> Reply:
    return Reply(_response("completed", list(output)))


def stream(*output: dict[str, Any]) -> Stream:
    """response.created/in_progress, then per item: added, its deltas, done; then completed."""
    seq = 0
    frames: list[tuple[str | None, Any]] = []

    def emit(event: dict[str, Any]) -> None:
        nonlocal seq
        event["sequence_number"] = seq
        seq += 1
        frames.append((event["type"], event))

    emit({"type": "response.created", "response": _response("in_progress", [])})
    emit({"type": "response.in_progress", "response": _response("in_progress", [])})
    for index, item in enumerate(output):
        if item["type"] == "message":
            emit({"type": "response.output_item.added", "output_index": index,
                  "item": {**item, "status": "in_progress", "content": []}})
            text = item["content"][0]["text"]
            part = {"type": "output_text", "text": "", "annotations": []}
            emit({"type": "response.content_part.added", "item_id": item["id"], "output_index": index,
                  "content_index": 0, "part": part})
            for piece in (text[: len(text) // 2], text[len(text) // 2:]):
                emit({"type": "response.output_text.delta", "item_id": item["id"], "output_index": index,
                      "content_index": 0, "delta": piece, "logprobs": []})
            emit({"type": "response.output_text.done", "item_id": item["id"], "output_index": index,
                  "content_index": 0, "text": text, "logprobs": []})
            emit({"type": "response.content_part.done", "item_id": item["id"], "output_index": index,
                  "content_index": 0, "part": {**part, "text": text}})
        elif item["type"] == "function_call":
            emit({"type": "response.output_item.added", "output_index": index,
                  "item": {**item, "arguments": "", "status": "in_progress"}})
            args = item["arguments"]
            for piece in (args[: len(args) // 2], args[len(args) // 2:]):
                emit({"type": "response.function_call_arguments.delta", "item_id": item["id"],
                      "output_index": index, "delta": piece})
            emit({"type": "response.function_call_arguments.done", "item_id": item["id"],
                  "output_index": index, "arguments": args, "name": item["name"]})
        else:
            emit({"type": "response.output_item.added", "output_index": index,
                  "item": {**item, "summary": [], "encrypted_content": None}})
        emit({"type": "response.output_item.done", "output_index": index, "item": item})
    emit({"type": "response.completed", "response": _response("completed", list(output))})
    return Stream(frames)
