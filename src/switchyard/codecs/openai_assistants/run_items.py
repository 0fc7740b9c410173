"""A run's stored steps as the canonical items a model reads when the run goes on (after
``submit_tool_outputs``, or resumed): its messages, its function calls with the outputs
the client gave, and its built-in calls with their results (replayed by their tools)."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_assistants.message_items import message_item
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.tool_items import CodeInterpreterCall, CodeLogs, CodeOutput, FileSearchCall, FileSearchResult


def step_items(steps: list[dict[str, Any]], messages: dict[str, dict[str, Any]]) -> list[Item]:
    """``messages``: the thread's messages by id."""
    items: list[Item] = []
    for step in steps:
        details = step.get("step_details") or {}
        if details.get("type") == "message_creation":
            message = messages.get((details.get("message_creation") or {}).get("message_id", ""))
            if message is not None:
                items.append(message_item(message))
            continue
        for call in details.get("tool_calls") or []:
            items += _call_items(call)
    return items


def _call_items(call: dict[str, Any]) -> list[Item]:
    kind = call.get("type")
    if kind == "function":
        fn = call.get("function") or {}
        out: list[Item] = [FunctionCall(call_id=call["id"], name=fn.get("name", ""), arguments=fn.get("arguments", ""))]
        if fn.get("output") is not None:
            out.append(FunctionCallOutput(call_id=call["id"], output=[TextPart(str(fn["output"]))]))
        return out
    if kind == "file_search":
        results = [FileSearchResult(file_id=r.get("file_id", ""), filename=r.get("file_name", ""),
                                    score=float(r.get("score", 0.0)),
                                    text="".join(c.get("text") or "" for c in r.get("content") or []))
                   for r in (call.get("file_search") or {}).get("results") or []]
        return [FileSearchCall(id=call["id"], queries=[], results=results)]
    if kind == "code_interpreter":
        ci = call.get("code_interpreter") or {}
        outputs: list[CodeOutput] = [CodeLogs(o.get("logs", "")) for o in ci.get("outputs") or []
                                     if o.get("type") == "logs"]
        return [CodeInterpreterCall(id=call["id"], code=ci.get("input", ""), outputs=outputs,
                                    container_id=call.get("_container_id"))]
    return []
