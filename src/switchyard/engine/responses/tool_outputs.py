"""A tool output in a new response's input must answer a tool call the model made
(earlier in the chain, or given back in the same input), as on OpenAI."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import SwitchyardError, invalid

OUTPUTS = {"function_call_output": "function_call", "custom_tool_call_output": "custom_tool_call"}


def check_outputs_answer_calls(history: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> None:
    seen = [*history, *inputs]
    if any(item.get("type") == "compaction" for item in seen):
        return  # the calls may be folded into the compacted summary
    calls = {(item.get("type"), item.get("call_id")) for item in seen}
    for index, item in enumerate(inputs):
        call_type = OUTPUTS.get(item.get("type", ""))
        if call_type is not None and (call_type, item.get("call_id")) not in calls:
            raise _no_call(item.get("call_id"), index)


def _no_call(call_id: object, index: int) -> SwitchyardError:
    return invalid(f"No tool call found for function call output with call_id {call_id}.", f"input[{index}]")
