"""Remote MCP servers as tools of one response: which tools the model sees,
under which names, and which calls need the user's approval first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.core.errors import invalid
from switchyard.core.request import Tool
from switchyard.net.egress import EgressDenied
from switchyard.tools.mcp import McpClient


@dataclass(frozen=True, slots=True)
class ExposedTool:
    """An MCP tool as the model sees it (``name``) and as the server knows it."""

    name: str
    server_label: str
    tool_name: str
    config: Any  # the request's McpToolConfig


def needs_approval(config: Any, tool_name: str) -> bool:
    """OpenAI's semantics: ``always`` (the default) or ``never``, or per-tool lists."""
    policy = getattr(config, "require_approval", None)
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


def allowed(config: Any, tool_name: str) -> bool:
    names = getattr(config, "allowed_tools", None)
    return names is None or tool_name in names


def listed_tools(history: list[dict[str, Any]], server_label: str) -> list[dict[str, Any]] | None:
    """The newest ``mcp_list_tools`` result for ``server_label`` in the history, if any."""
    for item in reversed(history):
        if item.get("type") == "mcp_list_tools" and item.get("server_label") == server_label:
            if item.get("error"):
                return None
            return list(item.get("tools") or [])
    return None


def expose(configs: list[Any], listings: dict[str, list[dict[str, Any]]],
           taken: set[str]) -> tuple[list[Tool], dict[str, ExposedTool]]:
    """Canonical tools for the model and the map back to servers. A name that
    clashes with another tool gets its server label as a prefix."""
    tools: list[Tool] = []
    exposed: dict[str, ExposedTool] = {}
    for config in configs:
        for spec in listings.get(config.server_label, []):
            tool_name = spec["name"]
            if not allowed(config, tool_name):
                continue
            name = tool_name if tool_name not in taken else f"{config.server_label}__{tool_name}"
            taken.add(name)
            schema = spec.get("input_schema") or {"type": "object", "properties": {}}
            tools.append(Tool(name=name, description=spec.get("description"), parameters=schema))
            exposed[name] = ExposedTool(name, config.server_label, tool_name, config)
    return tools, exposed


async def check_servers(call: Any, mcp: McpClient) -> None:
    """A 400 naming ``tools[i].server_url`` for a server the egress policy refuses."""
    indexes = {tool.get("server_label"): i for i, tool in enumerate(call.tools_wire) if tool.get("type") == "mcp"}
    for config in call.mcp_tools:
        try:
            await mcp.check_url(config.server_url)
        except EgressDenied as exc:
            param = f"tools[{indexes.get(config.server_label, 0)}].server_url"
            raise invalid(f"Invalid '{param}': the MCP server is not allowed: {exc}.", param,
                          "mcp_server_not_allowed") from None
