"""How a request configures the built-in tools (whatever wire format it came in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ApprovalPolicy = str | dict[str, Any]
"""``"always"`` | ``"never"`` | ``{"always": {"tool_names": [...]}, "never": {"tool_names": [...]}}``."""


@dataclass(slots=True)
class FileSearchConfig:
    """Search over these vector stores (``filters`` and ``ranking_options`` as
    ``retrieval`` parses them)."""

    vector_store_ids: list[str]
    max_num_results: int = 10
    filters: dict[str, Any] | None = None
    ranking_options: dict[str, Any] | None = None


@dataclass(slots=True)
class McpToolConfig:
    """One remote MCP server (the secret-bearing ``headers`` live here only)."""

    server_label: str
    server_url: str
    headers: dict[str, str] = field(default_factory=dict)
    allowed_tools: list[str] | None = None
    require_approval: ApprovalPolicy = "always"
    server_description: str | None = None


@dataclass(slots=True)
class ImageGenerationConfig:
    """Images made on request by an image model (``model``; None: the first configured),
    with the options passed to it (size, quality, ...)."""

    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    path: str = "tools"  # the tool's position in the request, for errors
    partial_images: int = 0  # partial images to show, when the run is streamed


@dataclass(slots=True)
class CodeInterpreterConfig:
    """A sandbox for code: ``container`` is an id, or ``None`` for one made on demand."""

    container: str | None = None
    file_ids: list[str] = field(default_factory=list)
    path: str = "tools"  # the tool's position in the request, for errors
