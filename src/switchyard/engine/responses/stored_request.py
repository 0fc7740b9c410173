"""What a stored response keeps of its request, without plaintext secrets.

The MCP tools' ``headers`` and ``authorization`` leave the stored body. A
foreground response never runs again, so they are dropped: a continuation
(``previous_response_id``) gets them from its own request, as on OpenAI. A
background response runs later, maybe in another process, so they are kept
sealed (``SecretBox``) and put back when it is claimed."""

from __future__ import annotations

from typing import Any

from switchyard.store.secret_box import SecretBox

SECRET_KEYS = ("headers", "authorization")
SEALED = "sealed_mcp_secrets"


def _split(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return body, {}
    kept: list[Any] = []
    secrets: dict[str, dict[str, Any]] = {}
    for i, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") == "mcp" and any(k in tool for k in SECRET_KEYS):
            secrets[str(i)] = {k: tool[k] for k in SECRET_KEYS if k in tool}
            tool = {k: v for k, v in tool.items() if k not in SECRET_KEYS}
        kept.append(tool)
    return {**body, "tools": kept}, secrets


def to_store(body: dict[str, Any], input_items: list[dict[str, Any]], response_id: str, box: SecretBox, *,
             keep_secrets: bool) -> dict[str, Any]:
    stripped, secrets = _split(body)
    stored: dict[str, Any] = {"body": stripped, "input_items": input_items}
    if keep_secrets and secrets:
        stored[SEALED] = box.seal(secrets, response_id)
    return stored


def body_to_run(stored: dict[str, Any], response_id: str, box: SecretBox) -> dict[str, Any]:
    """The stored body with its sealed secrets back in place."""
    body: dict[str, Any] = stored["body"]
    token = stored.get(SEALED)
    if not token:
        return body
    secrets = box.open(token, response_id)
    tools = list(body.get("tools") or [])
    for index, values in secrets.items():
        tools[int(index)] = {**tools[int(index)], **values}
    return {**body, "tools": tools}
