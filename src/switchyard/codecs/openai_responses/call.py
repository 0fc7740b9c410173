"""A validated ``POST /v1/responses`` body: what the engine runs and what the
response object echoes back."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.core.request import ReasoningConfig, ResponseFormat, Tool, ToolChoice
from switchyard.core.tool_config import (
    ApprovalPolicy,
    CodeInterpreterConfig,
    FileSearchConfig,
    ImageGenerationConfig,
    McpToolConfig,
)

__all__ = ["ApprovalPolicy", "FileSearchConfig", "ImageGenerationConfig", "McpToolConfig", "NewItemId", "ResponsesCall",
           "random_item_id"]

NewItemId = Callable[[str], str]
"""Mints an item id from a prefix that includes its separator, e.g. ``"msg_"``."""

_ALPHABET = string.ascii_letters + string.digits


def random_item_id(prefix: str) -> str:
    """The default ``NewItemId``: ``prefix`` and 24 random base62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass(slots=True)
class ResponsesCall:
    model: str
    input_items: list[dict[str, Any]] = field(default_factory=list)
    instructions: str | None = None
    previous_response_id: str | None = None
    conversation: str | None = None
    store: bool = True
    background: bool = False
    stream: bool = False
    stream_include_obfuscation: bool = True
    tools_wire: list[dict[str, Any]] = field(default_factory=list)
    function_tools: list[Tool] = field(default_factory=list)
    mcp_tools: list[McpToolConfig] = field(default_factory=list)
    file_search: FileSearchConfig | None = None
    image_generation: ImageGenerationConfig | None = None
    code_interpreter: CodeInterpreterConfig | None = None
    tool_choice: ToolChoice | None = None
    tool_choice_wire: str | dict[str, Any] = "auto"
    parallel_tool_calls: bool = True
    max_tool_calls: int | None = None
    text_format: ResponseFormat | None = None
    text_wire: dict[str, Any] = field(
        default_factory=lambda: {"format": {"type": "text"}, "verbosity": "medium"}
    )
    reasoning: ReasoningConfig | None = None
    reasoning_wire: dict[str, Any] = field(default_factory=lambda: {"effort": None, "summary": None})
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    truncation: Literal["auto", "disabled"] = "disabled"
    include: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    service_tier: str | None = None
    hosted_tools: list[dict[str, Any]] = field(default_factory=list)
    """Hosted tools with no backend here (``web_search`` ...), as given."""
    hosted_tools_param: str = "tools"
    openai_options: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, Any] = field(default_factory=dict)
