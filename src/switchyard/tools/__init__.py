"""Tools the gateway runs itself on a model's behalf (e.g. remote MCP servers)."""
