"""The canonical request parameters a backend may or may not support, each with its
neutral value: a parameter at its neutral value asks for nothing and may be left out;
any other value must be honoured, translated or refused (see ``providers.base``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from switchyard.core.request import Request


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    is_set: Callable[[Request], bool]
    """True when the request holds a meaningful (non-neutral) value."""
    reset: Callable[[Request], None]
    """Puts the neutral value back (``drop_params``)."""
    value: Callable[[Request], object]
    """The value, for backends that support some values only."""


def _set(name: str, neutral: object) -> Callable[[Request], None]:
    def reset(request: Request) -> None:
        setattr(request, name, neutral() if callable(neutral) else neutral)
    return reset


def _attr(name: str) -> Callable[[Request], object]:
    return lambda r: getattr(r, name)


def _plain(name: str, neutral: tuple[object, ...] = (None,), reset_to: object = None) -> Parameter:
    return Parameter(name, lambda r: getattr(r, name) not in neutral, _set(name, reset_to), _attr(name))


def _reset_logprobs(request: Request) -> None:
    request.logprobs, request.top_logprobs = False, None


def _reasoning_set(request: Request) -> bool:
    """Reasoning asked for with an effort or a budget; ``none``/disabled and an
    effort-free ``adaptive`` ask nothing a model that does not reason cannot give."""
    r = request.reasoning
    return r is not None and r.enabled and (r.effort not in (None, "none") or r.budget_tokens is not None)


def _vendor(vendor: str) -> Parameter:
    def is_set(r: Request) -> bool:
        return r.vendor_tools is not None and r.vendor_tools.vendor == vendor and bool(r.vendor_tools.tools)

    def reset(r: Request) -> None:
        if is_set(r):
            r.vendor_tools = None
    return Parameter(f"{vendor}_tools", is_set, reset, lambda r: r.vendor_tools)


def _no_parallel(request: Request) -> bool:
    return request.parallel_tool_calls is False and bool(request.tools)


PARAMETERS: tuple[Parameter, ...] = (
    _plain("temperature"),
    _plain("top_p"),
    _plain("top_k"),
    _plain("max_output_tokens"),
    Parameter("stop", lambda r: bool(r.stop), _set("stop", list), _attr("stop")),
    _plain("seed"),
    Parameter("n", lambda r: r.n != 1, _set("n", 1), _attr("n")),
    Parameter("logprobs", lambda r: r.logprobs or bool(r.top_logprobs), _reset_logprobs, _attr("top_logprobs")),
    _plain("presence_penalty", (None, 0, 0.0)),
    _plain("frequency_penalty", (None, 0, 0.0)),
    Parameter("logit_bias", lambda r: any(v != 0 for v in (r.logit_bias or {}).values()),
              _set("logit_bias", None), _attr("logit_bias")),
    Parameter("parallel_tool_calls", _no_parallel, _set("parallel_tool_calls", None), _attr("parallel_tool_calls")),
    Parameter("reasoning", _reasoning_set, _set("reasoning", None), _attr("reasoning")),
    _plain("service_tier", (None, "auto")),
    _plain("prompt_cache_key"),
    _plain("verbosity", (None, "medium")),
    _plain("user"),
    _plain("prediction"),
    _plain("audio"),
    _vendor("anthropic"),
    _vendor("openai"),
    Parameter("openai_options", lambda r: bool(r.openai_options), _set("openai_options", dict),
              _attr("openai_options")),
    Parameter("store", lambda r: r.store is True, _set("store", None), _attr("store")),
    Parameter("unavailable", lambda r: bool(r.unavailable), _set("unavailable", dict), _attr("unavailable")),
    Parameter("anthropic_options", lambda r: bool(r.anthropic_options), _set("anthropic_options", dict),
              _attr("anthropic_options")),
    Parameter("anthropic_beta", lambda r: bool(r.anthropic_beta), _set("anthropic_beta", dict),
              _attr("anthropic_beta")),
)

NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
