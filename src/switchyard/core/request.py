"""A generation request in the canonical model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.core.items import Item


@dataclass(frozen=True, slots=True)
class ToolGrammar:
    """The grammar a custom tool's free-form input must match (Responses ``custom``
    tools with ``format: {"type": "grammar"}``)."""

    syntax: Literal["lark", "regex"]
    definition: str


@dataclass(slots=True)
class Tool:
    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool = False
    grammar: ToolGrammar | None = None  # a custom tool's input grammar; its ``input`` argument matches it


@dataclass(slots=True)
class ToolChoice:
    """``auto`` | ``none`` | ``required`` (any tool) | ``tool`` (the one named)."""

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None


@dataclass(slots=True)
class ResponseFormat:
    type: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool = False
    description: str | None = None


@dataclass(slots=True)
class ReasoningConfig:
    """``effort`` is OpenAI's scale (minimal..xhigh); ``budget_tokens`` Anthropic's.
    ``enabled`` False means the client asked for no reasoning."""

    enabled: bool = True
    effort: str | None = None
    budget_tokens: int | None = None
    summary: str | None = None


@dataclass(slots=True)
class VendorTools:
    """Tools only one vendor's API runs itself (e.g. Anthropic's server tools such as
    ``web_search_20250305``): sent verbatim to an upstream of that vendor, left out
    for the others. ``choice`` names one of them when the client forced it."""

    vendor: Literal["anthropic", "openai"]
    tools: list[dict[str, Any]] = field(default_factory=list)
    choice: str | None = None


@dataclass(slots=True)
class Request:
    model: str
    items: list[Item]
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    response_format: ResponseFormat | None = None
    reasoning: ReasoningConfig | None = None
    user: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    vendor_tools: VendorTools | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    verbosity: str | None = None
    prediction: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    openai_options: dict[str, Any] = field(default_factory=dict)
    """OpenAI-only request options (``moderation``, ``prompt_cache_options``,
    ``prompt_cache_retention``), as given."""
    store: bool | None = None
    """Chat Completions ``store``: keep the completion (only an OpenAI upstream can)."""
    unavailable: dict[str, Any] = field(default_factory=dict)
    """Features of the client's API no backend here offers (Responses ``context_management``)."""
    anthropic_options: dict[str, Any] = field(default_factory=dict)
    """Anthropic-only request options (``container``, ``inference_geo``), as given."""
    anthropic_beta: dict[str, Any] = field(default_factory=dict)
    """Anthropic beta options (``context_management``, ``mcp_servers``, ``speed``), as given."""
    stream: bool = False
    param_names: dict[str, str] = field(default_factory=dict, compare=False)
    """The client's name for a canonical parameter where it differs (``stop`` is
    ``stop_sequences`` on Messages): errors name the field the client sent."""

    def param_name(self, canonical: str) -> str:
        return self.param_names.get(canonical, canonical)

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)
