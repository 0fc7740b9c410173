"""The ``code_interpreter`` tool: the model sends Python, a container (a sandbox session,
``tools.code_runner``) runs it, and the run shows a ``CodeInterpreterCall`` with its logs
and images; files the code wrote become container files the answer cites. The model reads
back the logs, and is told of images and files. A container is the request's (by id),
or with ``container: {"type": "auto"}`` the one the context already used while it lives,
else a new one holding the tool's ``file_ids``."""

from __future__ import annotations

import base64

import orjson

from switchyard.core.errors import SwitchyardError
from switchyard.core.events import ItemDone, ItemStart
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.request import Tool
from switchyard.core.tool_config import CodeInterpreterConfig
from switchyard.core.tool_items import BuiltinItem, CodeFile, CodeImage, CodeInterpreterCall, CodeLogs, CodeOutput
from switchyard.tools.builtin import BuiltinTool, RunScope, ToolKind, ToolServices, ToolStep, text_argument
from switchyard.tools.code_runner import CodeRunner

NAME = "code_interpreter"
MAX_LOGS_TO_MODEL = 8000  # characters of output the model reads back

TOOL = Tool(
    name=NAME,
    description=("Run Python code in a stateful sandbox (variables persist between calls; no internet). "
                 "numpy, pandas and matplotlib are installed. Files are in /mnt/data; save files there to "
                 "give them to the user. Print what you need to see; figures you draw are shown to the user."),
    parameters={"type": "object", "additionalProperties": False, "required": ["code"],
                "properties": {"code": {"type": "string", "description": "The Python code to run."}}},
)


def code_of(call: FunctionCall) -> str:
    """The ``code`` argument; a model that sent bare code instead of JSON gets it run as is."""
    return text_argument(call, "code")


def _used_containers(items: list[Item]) -> list[str]:
    """Containers the context's code ran in, latest first."""
    seen = [i.container_id for i in items if isinstance(i, CodeInterpreterCall) and i.container_id]
    return list(dict.fromkeys(reversed(seen)))


class CodeInterpreter:
    def __init__(self, scope: RunScope, config: CodeInterpreterConfig, runner: CodeRunner) -> None:
        self.scope = scope
        self.config = config
        self.runner = runner
        self.container_id: str | None = None

    async def prepare(self) -> list[Item]:
        if self.config.container is not None:  # a wrong id is the request's error, before anything runs
            self.container_id = await self.runner.container_for(self.scope.owner_id, self.config.container, [], [],
                                                                 f"{self.config.path}.container")
        return []

    def offers(self) -> list[Tool]:
        return [TOOL]

    def handles(self, name: str) -> bool:
        return name == NAME

    async def run(self, call: FunctionCall) -> ToolStep:
        self.scope.count_tool_call()
        code = code_of(call)
        item_id = self.scope.new_id("ci_")
        try:
            if self.container_id is None:
                self.container_id = await self.runner.container_for(
                    self.scope.owner_id, None, self.config.file_ids, _used_containers(self.scope.seen),
                    f"{self.config.path}.container")
        except SwitchyardError as exc:
            await self.scope.emit(ItemStart(CodeInterpreterCall(item_id, code, None, None, "in_progress")))
            await self.scope.emit(ItemDone(CodeInterpreterCall(item_id, code, None, [CodeLogs(exc.message)],
                                                               "failed")))
            return ToolStep([FunctionCallOutput(call.call_id, [TextPart(f"No container: {exc.message}")],
                                                is_error=True)])
        container_id = self.container_id
        await self.scope.emit(ItemStart(CodeInterpreterCall(item_id, code, container_id, None, "in_progress")))
        try:
            run = await self.runner.run_code(self.scope.owner_id, container_id, code)
        except SwitchyardError as exc:
            done = CodeInterpreterCall(item_id, code, container_id, [CodeLogs(exc.message)], "failed")
            await self.scope.emit(ItemDone(done))
            return ToolStep([FunctionCallOutput(call.call_id, [TextPart(f"The code did not run: {exc.message}")],
                                                is_error=True)])
        result = run.result
        outputs: list[CodeOutput] = []
        if result.logs:
            outputs.append(CodeLogs(result.logs))
        outputs += [CodeImage("data:image/png;base64," + base64.b64encode(png).decode()) for png in result.images]
        status = "completed" if result.status in ("ok", "error") else "incomplete"
        files = [CodeFile(f.id, f.container_id, f.filename) for f in run.files]
        await self.scope.emit(ItemDone(CodeInterpreterCall(item_id, code, container_id, outputs, status, files)))
        text = result.logs[-MAX_LOGS_TO_MODEL:] if result.logs else "(no output)"
        if result.images:
            text += f"\n[{len(result.images)} image(s) shown to the user]"
        if run.files:
            text += "\n[files written: " + ", ".join(f.path for f in run.files) + "]"
        return ToolStep([FunctionCallOutput(call.call_id, [TextPart(text)], is_error=result.status != "ok")])


async def _open(scope: RunScope, services: ToolServices) -> BuiltinTool | None:
    config = scope.configs.code_interpreter
    if config is None or services.code is None:
        return None
    return CodeInterpreter(scope, config, services.code)


def replay(item: BuiltinItem) -> list[Item]:
    """A past call as the model's call of ``code_interpreter`` and its logs."""
    assert isinstance(item, CodeInterpreterCall)
    call = FunctionCall(call_id=item.id, name=NAME, arguments=orjson.dumps({"code": item.code}).decode())
    if item.outputs is None:
        return [call, FunctionCallOutput(item.id, [TextPart("(the output was not kept)")])]
    logs = "\n".join(o.logs for o in item.outputs if isinstance(o, CodeLogs))
    images = sum(1 for o in item.outputs if isinstance(o, CodeImage))
    text = (logs or "(no output)")[-MAX_LOGS_TO_MODEL:] + (f"\n[{images} image(s) shown to the user]" if images else "")
    return [call, FunctionCallOutput(item.id, [TextPart(text)])]


CODE_INTERPRETER = ToolKind(NAME, _open, {CodeInterpreterCall: replay})
