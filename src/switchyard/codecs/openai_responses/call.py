"""A validated ``POST /v1/responses`` body: what the engine runs and what the
response object echoes back."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.core.request import ReasoningConfig, ResponseFormat, Tool, ToolChoice

NewItemId = Callable[[str], str]
"""Mints an item id from a prefix that includes its separator, e.g. ``"msg_"``."""

ApprovalPolicy = str | dict[str, Any]
"""``"always"`` | ``"never"`` | ``{"always": {"tool_names": [...]}, "never": {"tool_names": [...]}}``."""

_ALPHABET = string.ascii_letters + string.digits


def random_item_id(prefix: str) -> str:
    """The default ``NewItemId``: ``prefix`` and 24 random base62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass(slots=True)
class FileSearchConfig:
    """The request's ``{"type": "file_search", ...}`` tool, validated."""

    vector_store_ids: list[str]
    max_num_results: int = 10
    filters: dict[str, Any] | None = None
    ranking_options: dict[str, Any] | None = None


@dataclass(slots=True)
class ImageGenerationConfig:
    """The request's ``{"type": "image_generation", ...}`` tool: the image model (None: the
    first configured) and the options passed to it (size, quality, ...)."""

    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    path: str = "tools"  # the tool's position in the request, for errors
    partial_images: int = 0  # partial images to stream, when the response is streamed


@dataclass(slots=True)
class McpToolConfig:
    """One ``{"type": "mcp", ...}`` tool of the request (the secret-bearing ``headers``
    live here only; the echoed ``tools_wire`` never carries them)."""

    server_label: str
    server_url: str
    headers: dict[str, str] = field(default_factory=dict)
    allowed_tools: list[str] | None = None
    require_approval: ApprovalPolicy = "always"
    server_description: str | None = None


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
