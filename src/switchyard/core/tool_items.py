"""Built-in tool calls and their results, and vendor content carried opaquely.

Built-in tools are run by the engine, not by the client: each call is one item that
holds both what was asked and what came back. ``VendorItem`` is content only its own
vendor understands (Anthropic's server-tool blocks): it goes back to that vendor as
it came and is left out everywhere else."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ToolStatus = Literal["in_progress", "completed", "incomplete", "failed"]


@dataclass(slots=True)
class FileSearchResult:
    file_id: str
    filename: str
    score: float
    text: str
    attributes: dict[str, Any] | None = None


@dataclass(slots=True)
class FileSearchCall:
    """A search over vector stores; ``results`` is None while it runs, or when the
    results were not kept."""

    id: str
    queries: list[str]
    results: list[FileSearchResult] | None = None
    status: ToolStatus = "completed"


@dataclass(slots=True)
class McpToolSpec:
    name: str
    input_schema: dict[str, Any]
    description: str | None = None
    annotations: dict[str, Any] | None = None


@dataclass(slots=True)
class McpListTools:
    """The tools one MCP server offers (after ``allowed_tools``), or why it could not say."""

    id: str
    server_label: str
    tools: list[McpToolSpec] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class McpCall:
    """One MCP tool call: ``name`` is the server's name for the tool; ``output`` or
    ``error`` once it ran."""

    id: str
    server_label: str
    name: str
    arguments: str
    output: str | None = None
    error: str | None = None
    status: ToolStatus = "completed"


@dataclass(slots=True)
class McpApprovalRequest:
    id: str
    server_label: str
    name: str
    arguments: str


@dataclass(slots=True)
class McpApprovalResponse:
    approval_request_id: str
    approve: bool
    reason: str | None = None
    id: str | None = None


@dataclass(slots=True)
class CodeLogs:
    logs: str


@dataclass(slots=True)
class CodeImage:
    url: str


CodeOutput = CodeLogs | CodeImage


@dataclass(slots=True)
class CodeFile:
    """A file the code wrote, kept in its container (answers cite it)."""

    file_id: str
    container_id: str
    filename: str


@dataclass(slots=True)
class CodeInterpreterCall:
    """Code run in a container: ``outputs`` (logs and images) once it ran; ``files`` those
    it wrote (not part of the wire item: the answer that follows cites them)."""

    id: str
    code: str
    container_id: str | None = None
    outputs: list[CodeOutput] | None = None
    status: ToolStatus = "completed"
    files: list[CodeFile] = field(default_factory=list)


@dataclass(slots=True)
class ImageSettings:
    """How an image was made, as the image model reports it (each may be unknown)."""

    background: str | None = None
    output_format: str | None = None
    quality: str | None = None
    size: str | None = None


@dataclass(slots=True)
class ToolError:
    """Why a built-in call failed: the error it met, in Switchyard's terms."""

    message: str
    type: str = "server_error"
    code: str | None = None
    param: str | None = None


@dataclass(slots=True)
class ImageGenerationCall:
    """An image made for the model: ``result`` is the image (base64) once made,
    ``revised_prompt`` the prompt it was made from; ``error`` when it failed."""

    id: str
    status: ToolStatus = "completed"
    result: str | None = None
    revised_prompt: str | None = None
    settings: ImageSettings = field(default_factory=ImageSettings)
    error: ToolError | None = None


@dataclass(slots=True)
class PartialImage:
    """A preview of an image still being made (``data`` in base64)."""

    index: int
    data: str
    settings: ImageSettings = field(default_factory=ImageSettings)


BuiltinItem = (FileSearchCall | McpListTools | McpCall | McpApprovalRequest | McpApprovalResponse
               | CodeInterpreterCall | ImageGenerationCall)


@dataclass(slots=True)
class VendorItem:
    """A ``vendor``'s own content, as that vendor's wire shape (``data``)."""

    vendor: str
    data: dict[str, Any]
