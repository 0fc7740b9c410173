"""A request's MCP servers checked against the egress policy before it runs."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import invalid
from switchyard.net.egress import EgressDenied
from switchyard.tools.mcp import McpClient


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
