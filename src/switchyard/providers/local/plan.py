"""What one choice's generation needs, decided before the model is touched."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchyard.core.request import Tool


@dataclass(slots=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None


@dataclass(slots=True)
class Plan:
    """One choice's generation, fully decided before the model is touched."""

    tokens: list[int]
    max_tokens: int
    sampling: Sampling = field(default_factory=Sampling)
    stops: list[str] = field(default_factory=list)
    grammar: str | None = None
    tools: list[Tool] = field(default_factory=list)  # enables call parsing
    prefill: str = ""  # already in ``tokens``; fed to the parser first
    strict_tools: bool = False  # constrain a call the model opens on its own
    logprobs: bool = False
    top_logprobs: int = 0
    choice: int = 0
    single_call: bool = False  # parallel_tool_calls false: stop once the first call is complete
    logit_bias: dict[int, float] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens whose KV was reused rather than evaluated
    cancelled: bool = False
