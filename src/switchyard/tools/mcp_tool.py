"""Remote MCP servers as a built-in tool: their tools are listed once per
conversation (a listing in the history is reused), offered to the model under names
that do not clash, and called, or held for the user's approval first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import ItemDone, ItemStart
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.request import Tool
from switchyard.core.tool_config import McpToolConfig
from switchyard.core.tool_items import (
    BuiltinItem,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    McpToolSpec,
)
from switchyard.tools.builtin import BuiltinTool, RunScope, ToolKind, ToolServices, ToolStep
from switchyard.tools.mcp import McpClient, McpError


@dataclass(frozen=True, slots=True)
class ExposedTool:
    """An MCP tool as the model sees it (``name``) and as the server knows it."""

    name: str
    server_label: str
    tool_name: str
    config: McpToolConfig


def needs_approval(config: McpToolConfig, tool_name: str) -> bool:
    """OpenAI's semantics: ``always`` (the default) or ``never``, or per-tool lists."""
    policy = config.require_approval
    if policy is None or policy == "always":
        return True
    if policy == "never":
        return False
    if isinstance(policy, dict):
        never = (policy.get("never") or {}).get("tool_names") or []
        always = (policy.get("always") or {}).get("tool_names") or []
        if tool_name in always:
            return True
        if tool_name in never:
            return False
    return True


def allowed(config: McpToolConfig, tool_name: str) -> bool:
    return config.allowed_tools is None or tool_name in config.allowed_tools


def listed_tools(history: list[Item], server_label: str) -> list[McpToolSpec] | None:
    """The newest successful listing for ``server_label`` in the history, if any."""
    for item in reversed(history):
        if isinstance(item, McpListTools) and item.server_label == server_label:
            return None if item.error else list(item.tools)
    return None


def expose(configs: list[McpToolConfig], listings: dict[str, list[McpToolSpec]],
           taken: set[str]) -> tuple[list[Tool], dict[str, ExposedTool]]:
    """Canonical tools for the model and the map back to servers. A name that
    clashes with another tool gets its server label as a prefix."""
    tools: list[Tool] = []
    exposed: dict[str, ExposedTool] = {}
    for config in configs:
        for spec in listings.get(config.server_label, []):
            if not allowed(config, spec.name):
                continue
            name = spec.name if spec.name not in taken else f"{config.server_label}__{spec.name}"
            taken.add(name)
            schema = spec.input_schema or {"type": "object", "properties": {}}
            tools.append(Tool(name=name, description=spec.description, parameters=schema))
            exposed[name] = ExposedTool(name, config.server_label, spec.name, config)
    return tools, exposed


class Mcp:
    def __init__(self, scope: RunScope, client: McpClient) -> None:
        self.scope = scope
        self.client = client
        self.tools: list[Tool] = []
        self.exposed: dict[str, ExposedTool] = {}

    async def prepare(self) -> list[Item]:
        configs = self.scope.configs.mcp
        listings: dict[str, list[McpToolSpec]] = {}
        unknown = []
        for config in configs:
            known = listed_tools(self.scope.seen, config.server_label)
            if known is None:
                unknown.append(config)
            else:
                listings[config.server_label] = known
        listings.update(await self._list(unknown))
        self.tools, self.exposed = expose(configs, listings, set(self.scope.function_names))
        return await self._answer_approvals()

    def offers(self) -> list[Tool]:
        return self.tools

    def handles(self, name: str) -> bool:
        return name in self.exposed

    async def run(self, call: FunctionCall) -> ToolStep:
        target = self.exposed[call.name]
        if needs_approval(target.config, target.tool_name):
            await self.scope.emit(ItemDone(McpApprovalRequest(self.scope.new_id("mcpr_"), target.server_label,
                                                              target.tool_name, call.arguments)))
            return ToolStep(wait=True)
        return ToolStep([await self._call(call, target)])

    async def _list(self, configs: list[McpToolConfig]) -> dict[str, list[McpToolSpec]]:
        """The servers' tools, listed concurrently; their items open and close in request order."""
        ids = [self.scope.new_id("mcpl_") for _ in configs]
        for config, item_id in zip(configs, ids, strict=True):
            await self.scope.emit(ItemStart(McpListTools(item_id, config.server_label)))
        found = await asyncio.gather(*(self.client.list_tools(c.server_url, c.headers) for c in configs),
                                     return_exceptions=True)
        listings: dict[str, list[McpToolSpec]] = {}
        for config, item_id, tools in zip(configs, ids, found, strict=True):
            if isinstance(tools, McpError):
                item = McpListTools(item_id, config.server_label, error=str(tools))
            elif isinstance(tools, BaseException):
                raise tools
            else:
                item = McpListTools(item_id, config.server_label, [
                    McpToolSpec(t.name, t.input_schema, t.description, t.annotations)
                    for t in tools if allowed(config, t.name)])
            await self.scope.emit(ItemDone(item))
            listings[config.server_label] = item.tools
        return listings

    async def _call(self, call: FunctionCall, target: ExposedTool) -> FunctionCallOutput:
        self.scope.count_tool_call()
        item_id = self.scope.new_id("mcp_")
        await self.scope.emit(ItemStart(McpCall(item_id, target.server_label, target.tool_name, call.arguments,
                                                status="in_progress")))
        output: str | None = None
        error: str | None = None
        try:
            result = await self.client.call_tool(target.config.server_url, target.config.headers,
                                                 target.tool_name, orjson.loads(call.arguments or "{}"))
            if result.is_error:
                error = result.output
            else:
                output = result.output
        except (McpError, orjson.JSONDecodeError) as exc:
            error = str(exc)
        await self.scope.emit(ItemDone(McpCall(item_id, target.server_label, target.tool_name, call.arguments,
                                               output, error, "failed" if error else "completed")))
        text = output if error is None else f"Error: {error}"
        return FunctionCallOutput(call.call_id, [TextPart(text or "")], is_error=error is not None)

    async def _answer_approvals(self) -> list[Item]:
        """Carry out (or decline) the calls whose approval arrives in this input."""
        requests = {i.id: i for i in self.scope.seen if isinstance(i, McpApprovalRequest)}
        carried: list[Item] = []
        for answer in self.scope.inputs:
            if not isinstance(answer, McpApprovalResponse):
                continue
            asked = requests.get(answer.approval_request_id)
            if asked is None:
                raise SwitchyardError(ErrorKind.INVALID_REQUEST,
                                      f"No mcp_approval_request with id '{answer.approval_request_id}'.",
                                      param="input")
            target = next((t for t in self.exposed.values()
                           if t.server_label == asked.server_label and t.tool_name == asked.name), None)
            call = FunctionCall(call_id=asked.id, name=target.name if target else asked.name,
                                arguments=asked.arguments or "{}")
            carried.append(call)
            if answer.approve and target is not None:
                carried.append(await self._call(call, target))
            else:
                reason = answer.reason or "The user declined this tool call."
                carried.append(FunctionCallOutput(call.call_id, [TextPart(reason)], is_error=True))
        return carried


async def _open(scope: RunScope, services: ToolServices) -> BuiltinTool | None:
    if not scope.configs.mcp or services.mcp is None:
        return None
    return Mcp(scope, services.mcp)


def replay_call(item: BuiltinItem) -> list[Item]:
    """A past call as the model's call of the server's tool (by the server's name) and
    its answer; a call that never got one (cut off) as the call alone."""
    assert isinstance(item, McpCall)
    call = FunctionCall(call_id=item.id, name=item.name, arguments=item.arguments, id=item.id)
    if item.error is not None:
        return [call, FunctionCallOutput(call.call_id, [TextPart(item.error)], is_error=True)]
    if item.output is None:
        return [call]
    return [call, FunctionCallOutput(call.call_id, [TextPart(item.output)])]


def _nothing(item: BuiltinItem) -> list[Item]:
    return []


MCP = ToolKind("mcp", _open, {McpCall: replay_call, McpListTools: _nothing, McpApprovalRequest: _nothing,
                              McpApprovalResponse: _nothing})
