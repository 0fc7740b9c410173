"""The legacy Completions API (``/v1/completions``) ⇄ the canonical model.

The prompt becomes one user message holding the raw text, with
``metadata["raw_prompt"] = True`` so a local provider can skip the chat template.
``echo`` is returned by ``decode_echo`` and handed back to the encoders, which
prepend the prompt to each choice's text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_chat.fields import (
    obj,
    opt_bool,
    opt_int,
    opt_num,
    opt_str,
    req_str,
    wrong_type,
)
from switchyard.codecs.openai_chat.request_in import decode_stream_options, logit_bias
from switchyard.codecs.openai_chat.wire import error_body, finish_out, usage_out
from switchyard.core.errors import invalid, unsupported
from switchyard.core.events import (
    Event,
    Failure,
    Finish,
    FinishReason,
    TextDelta,
    TokenLogprob,
    UsageReport,
)
from switchyard.core.items import text_message
from switchyard.core.request import Request
from switchyard.core.result import Result
from switchyard.core.usage import Usage

log = logging.getLogger(__name__)

_MAPPED = frozenset({
    "model", "prompt", "max_tokens", "echo", "suffix", "stop", "n", "logprobs", "temperature",
    "top_p", "stream", "stream_options", "seed", "presence_penalty", "frequency_penalty", "user",
    "best_of", "logit_bias",
})

__all__ = ["ChunkEncoder", "decode_echo", "decode_request", "decode_stream_options",
           "encode_result"]


def decode_request(body: object) -> Request:
    """Validate a ``POST /v1/completions`` body. One prompt per request: a list of
    several prompts or token arrays answers 400."""
    body = obj(body, "body")
    for key in body.keys() - _MAPPED:
        log.debug("completions: ignoring field %r", key)
    if opt_str(body, "suffix"):
        raise unsupported("suffix", "insertion (suffix) is not supported")
    n = opt_int(body, "n", lo=1, hi=128) or 1
    best_of = opt_int(body, "best_of", lo=1, hi=20)
    if best_of is not None and best_of != n:
        raise unsupported("best_of", "best_of must equal n")
    logprobs = opt_int(body, "logprobs", lo=0, hi=5)
    max_tokens = opt_int(body, "max_tokens", lo=1)
    opt_bool(body, "echo")
    decode_stream_options(body)
    return Request(
        model=req_str(body, "model"),
        items=[text_message("user", _prompt(body.get("prompt")))],
        temperature=opt_num(body, "temperature", lo=0, hi=2),
        top_p=opt_num(body, "top_p", lo=0, hi=1),
        max_output_tokens=16 if max_tokens is None else max_tokens,
        stop=_stop(body.get("stop")),
        seed=opt_int(body, "seed"),
        n=n,
        logprobs=logprobs is not None,
        top_logprobs=logprobs,
        presence_penalty=opt_num(body, "presence_penalty", lo=-2, hi=2),
        frequency_penalty=opt_num(body, "frequency_penalty", lo=-2, hi=2),
        user=opt_str(body, "user"),
        logit_bias=logit_bias(body.get("logit_bias")),
        metadata={"raw_prompt": True},
        stream=bool(opt_bool(body, "stream")),
        param_names={"max_output_tokens": "max_tokens"},
    )


def decode_echo(body: dict[str, Any]) -> str | None:
    """The prompt to echo before the completion, if ``echo`` was set."""
    return _prompt(body.get("prompt")) if body.get("echo") is True else None


def _prompt(raw: object) -> str:
    if raw is None:
        return "<|endoftext|>"
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, list):
        raise wrong_type("prompt", "a string or an array of strings", raw)
    if len(raw) != 1:
        raise invalid("Invalid 'prompt': this server accepts one prompt per request; send "
                      f"each of the {len(raw)} prompts in its own request.", "prompt")
    if not isinstance(raw[0], str):
        raise unsupported("prompt[0]", "prompts must be text, not token arrays")
    return raw[0]


def _stop(raw: object) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or len(raw) > 4:
        raise wrong_type("stop", "a string or an array of at most 4 strings", raw)
    for i, s in enumerate(raw):
        if not isinstance(s, str):
            raise wrong_type(f"stop[{i}]", "a string", s)
    return list(raw)


def _finish(reason: FinishReason) -> str:
    out = finish_out(reason)
    return "stop" if out == "tool_calls" else out


def _logprobs(lps: list[TokenLogprob] | None, offset: int) -> dict[str, Any] | None:
    if lps is None:
        return None
    offsets = []
    for lp in lps:
        offsets.append(offset)
        offset += len(lp.token)
    return {
        "tokens": [lp.token for lp in lps],
        "token_logprobs": [lp.logprob for lp in lps],
        "top_logprobs": [{t.token: t.logprob for t in lp.top} for lp in lps],
        "text_offset": offsets,
    }


def encode_result(
    result: Result, *, id: str, model: str, created: int, echo: str | None = None
) -> dict[str, Any]:
    """A ``text_completion`` object; ``echo`` (from ``decode_echo``) prefixes each text."""
    prefix = echo or ""
    return {
        "id": id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "text": prefix + c.text(),
                "index": c.index,
                "logprobs": _logprobs(c.logprobs, len(prefix)),
                "finish_reason": _finish(c.finish_reason),
            }
            for c in result.choices
        ],
        "usage": usage_out(result.usage),
    }


@dataclass(slots=True)
class _Offset:
    chars: int = 0
    echoed: bool = False


class ChunkEncoder:
    """Canonical events as streamed ``text_completion`` chunks. Only text and the finish
    reach the client; a ``Failure`` yields one ``{"error": {...}}`` dict. With
    ``include_usage`` the last chunk has empty ``choices`` and the usage."""

    def __init__(
        self, *, id: str, model: str, created: int, include_usage: bool, echo: str | None = None
    ) -> None:
        self.id, self.model, self.created = id, model, created
        self.include_usage = include_usage
        self.echo = echo
        self._usage = Usage()
        self._offsets: dict[int, _Offset] = {}
        self._done = False

    def feed(self, event: Event) -> list[dict[str, Any]]:
        if self._done:
            return []
        match event:
            case TextDelta(text=text, choice=c, logprobs=lps) if text or lps:
                return [*self._echo(c), self._chunk(c, text, self._logprobs(c, text, lps), None)]
            case Finish(reason=reason, choice=c):
                return [*self._echo(c), self._chunk(c, "", None, _finish(reason))]
            case UsageReport(usage=usage):
                self._usage = usage
            case Failure(error=error):
                self._done = True
                return [error_body(error)]
        return []

    def close(self) -> list[dict[str, Any]]:
        if self._done:
            return []
        self._done = True
        if not self.include_usage:
            return []
        return [self._envelope([], usage_out(self._usage))]

    def _echo(self, choice: int) -> list[dict[str, Any]]:
        state = self._offsets.setdefault(choice, _Offset())
        if state.echoed or not self.echo:
            return []
        state.echoed = True
        state.chars += len(self.echo)
        return [self._chunk(choice, self.echo, None, None)]

    def _logprobs(self, choice: int, text: str, lps: list[TokenLogprob] | None) -> Any:
        state = self._offsets.setdefault(choice, _Offset())
        out = _logprobs(lps, state.chars)
        state.chars += len(text)
        return out

    def _chunk(self, choice: int, text: str, logprobs: Any, finish: str | None) -> dict[str, Any]:
        return self._envelope(
            [{"text": text, "index": choice, "logprobs": logprobs, "finish_reason": finish}]
        )

    def _envelope(
        self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = usage
        return chunk
