"""Per-request ceilings checked on the raw body, before any decoding: how many
tools a request may carry (namespace members count one each) and how many
remote MCP servers it may make the server contact."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import invalid

CHAT_MAX_TOOLS = 128  # OpenAI documents "a max of 128 functions" for Chat Completions


def check_tools(body: dict[str, Any], max_tools: int, max_mcp_servers: int | None = None) -> None:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return  # the decoder names the wrong type
    count = 0
    servers = 0
    for tool in tools:
        inner = tool.get("tools") if isinstance(tool, dict) and tool.get("type") == "namespace" else None
        count += len(inner) if isinstance(inner, list) else 1
        servers += isinstance(tool, dict) and tool.get("type") == "mcp"
    if count > max_tools:
        raise invalid(f"Invalid 'tools': array too long. Expected at most {max_tools} tools, but got {count} "
                      "instead.", "tools", "array_above_max_length")
    if max_mcp_servers is not None and servers > max_mcp_servers:
        raise invalid(f"Invalid 'tools': at most {max_mcp_servers} MCP servers may be used in one request, "
                      f"but got {servers}.", "tools", "array_above_max_length")
