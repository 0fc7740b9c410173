"""The ``code_interpreter`` tool's place in the table. The sandbox that runs code is
not built yet, so the tool opens for no run; a past call (from a stored history)
still reads to a model as the code it ran and what that printed."""

from __future__ import annotations

import orjson

from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.tool_items import BuiltinItem, CodeInterpreterCall, CodeLogs
from switchyard.tools.builtin import ToolKind

NAME = "code_interpreter"


def replay(item: BuiltinItem) -> list[Item]:
    assert isinstance(item, CodeInterpreterCall)
    call = FunctionCall(call_id=item.id, name=NAME, arguments=orjson.dumps({"code": item.code}).decode())
    if item.outputs is None:
        return [call]
    logs = "\n".join(o.logs for o in item.outputs if isinstance(o, CodeLogs))
    return [call, FunctionCallOutput(item.id, [TextPart(logs or "(no output)")])]


CODE_INTERPRETER = ToolKind(NAME, None, {CodeInterpreterCall: replay})
