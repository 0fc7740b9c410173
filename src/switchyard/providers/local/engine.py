"""The blocking side: one llama.cpp model, one generation at a time, tokens to events.

Everything here runs on the provider's single worker thread. A generation pushes
canonical events through ``emit`` as tokens arrive and checks ``cancelled`` between
tokens, so a consumer that goes away stops it within one token.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import llama_cpp
import llama_cpp.llama as llama_module
import numpy as np

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    FinishReason,
    TextDelta,
    TokenLogprob,
    TopLogprob,
)
from switchyard.core.request import Tool
from switchyard.providers.local.grammar import tool_call_gbnf
from switchyard.providers.local.stops import StopFilter
from switchyard.providers.local.toolparse import (
    ArgsDelta,
    CallEnd,
    CallStart,
    Output,
    Text,
    ToolCallParser,
)

_PATCH_LOCK = threading.Lock()


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
    cancelled: bool = False


def load_llama(path: Path, n_ctx: int, threads: int | None) -> llama_cpp.Llama:
    """Load a GGUF model. llama.cpp's extra CPU buffer types (AMX, repacking) are off
    unless SWITCHYARD_LLAMA_EXTRA_BUFTS=1: on CPUs that report AMX inside a VM they
    crash the process on the first batched decode."""
    extra = os.environ.get("SWITCHYARD_LLAMA_EXTRA_BUFTS") == "1"
    original = llama_cpp.llama_model_default_params

    def default_params() -> Any:
        params = original()
        params.use_extra_bufts = extra
        return params

    kwargs: dict[str, Any] = {"n_ctx": n_ctx, "verbose": False}
    if threads:
        kwargs.update(n_threads=threads, n_threads_batch=threads)
    with _PATCH_LOCK:
        llama_module.llama_cpp.llama_model_default_params = default_params
        try:
            return llama_cpp.Llama(str(path), **kwargs)
        finally:
            llama_module.llama_cpp.llama_model_default_params = original


class Engine:
    def __init__(self, llm: llama_cpp.Llama) -> None:
        self.llm = llm
        self._vocab = llm._model.vocab
        self.tokens_generated = 0  # since load, cancelled generations included

    @property
    def n_ctx(self) -> int:
        return int(self.llm.n_ctx())

    @property
    def n_vocab(self) -> int:
        return int(self.llm.n_vocab())

    def tokenize(self, text: str, bos: bool = False, special: bool = True) -> list[int]:
        """With ``special``, special-token text (template markup) becomes special tokens;
        without, it stays text (user content). With ``bos`` the model's own add-BOS
        setting applies, without doubling a template's BOS."""
        tokens = list(self.llm.tokenize(text.encode("utf-8"), add_bos=bos, special=special))
        if bos and len(tokens) > 1 and tokens[0] == tokens[1] == self.llm.token_bos():
            tokens = tokens[1:]
        return tokens

    def chat_template(self) -> str | None:
        return self.llm.metadata.get("tokenizer.chat_template")

    def token_text(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def check_grammar(self, gbnf: str) -> bool:
        sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    def run(self, plan: Plan, emit: Callable[[Event], None], cancelled: Callable[[], bool]) -> Outcome:
        """Generate one choice, emitting its blocks and its ``Finish``."""
        outcome = Outcome()
        if cancelled():
            outcome.cancelled = True
            return outcome
        blocks = _Blocks(plan.choice, emit)
        parser = ToolCallParser({t.name for t in plan.tools}) if plan.tools else None
        stops = StopFilter(plan.stops)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        if parser is not None and plan.prefill:
            blocks.add(parser.feed(plan.prefill), None)
        reason: FinishReason = "length"
        tokens, grammar = plan.tokens, plan.grammar
        generated: list[int] = []
        while True:
            restart = False
            for token, logprob in self._tokens(plan, tokens, grammar):
                if cancelled():
                    outcome.cancelled = True
                    return outcome
                if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                    reason = "stop"
                    break
                generated.append(token)
                self.tokens_generated += 1
                text = stops.feed(decoder.decode(self.llm.detokenize([token], special=True)))
                outputs = _split(parser, text)
                blocks.add(outputs, logprob)
                if stops.matched is not None:
                    reason = "stop"
                    break
                if plan.single_call and any(isinstance(o, CallEnd) for o in outputs):
                    break
                if len(generated) >= plan.max_tokens:
                    break
                if grammar is None and plan.strict_tools and parser is not None and parser.in_call:
                    # The model opened a call: redo it under the tools' grammar.
                    restart = True
                    break
            if not restart:
                break
            newline = self.tokenize("\n")
            tokens = [*plan.tokens, *generated, *newline]
            grammar = tool_call_gbnf(plan.tools)
            blocks.add(parser.feed("\n") if parser is not None else [], None)
        tail = "" if stops.matched else stops.feed(decoder.decode(b"", final=True))
        tail += "" if stops.matched else stops.finish()
        blocks.add(_split(parser, tail) + (parser.finish() if parser is not None else []), None)
        blocks.close()
        if parser is not None and parser.calls:
            reason = "tool_calls"
        emit(Finish(reason=reason, stop_sequence=stops.matched, choice=plan.choice))
        outcome.completion_tokens = len(generated)
        return outcome

    def _tokens(self, plan: Plan, tokens: list[int], grammar: str | None) -> Iterator[tuple[int, TokenLogprob | None]]:
        s = plan.sampling
        seed = s.seed if s.seed is not None else secrets.randbits(31)
        self.llm.set_seed(seed + plan.choice)
        captured: list[np.ndarray] = []
        steps: list[Callable[[Any, np.ndarray], np.ndarray]] = []
        if plan.logit_bias:
            ids = np.array(list(plan.logit_bias), dtype=np.int64)
            bias = np.array(list(plan.logit_bias.values()), dtype=np.float32)

            def biased(_ids: Any, logits: np.ndarray) -> np.ndarray:
                logits[ids] += bias
                return logits

            steps.append(biased)
        if plan.logprobs:

            def capture(_ids: Any, logits: np.ndarray) -> np.ndarray:
                captured.append(_log_softmax(logits))
                return logits

            steps.append(capture)
        processors = llama_cpp.LogitsProcessorList(steps) if steps else None
        if grammar is not None and not self.check_grammar(grammar):
            raise SwitchyardError(ErrorKind.SERVER, "could not build a grammar for this schema")
        gen = self.llm.generate(
            tokens,
            temp=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k,
            min_p=0.0,
            repeat_penalty=1.0,
            presence_penalty=s.presence_penalty,
            frequency_penalty=s.frequency_penalty,
            logits_processor=processors,
            grammar=llama_cpp.LlamaGrammar.from_string(grammar) if grammar else None,
        )
        with contextlib.closing(gen):
            for token in gen:
                logprob = None
                if captured:
                    logprob = self._logprob(token, captured.pop(), plan.top_logprobs)
                    captured.clear()
                yield token, logprob

    def _logprob(self, token: int, logprobs: np.ndarray, top: int) -> TokenLogprob:
        piece = self.llm.detokenize([token], special=True)
        entry = TokenLogprob(
            token=piece.decode("utf-8", errors="replace"),
            logprob=float(logprobs[token]),
            bytes=list(piece),
        )
        if top > 0:
            ids = np.argpartition(-logprobs, top)[:top]
            for i in sorted(ids, key=lambda i: -logprobs[i]):
                p = self.llm.detokenize([int(i)], special=True)
                entry.top.append(TopLogprob(p.decode("utf-8", errors="replace"), float(logprobs[i]), list(p)))
        return entry


def _split(parser: ToolCallParser | None, text: str) -> list[Output]:
    if parser is not None:
        return parser.feed(text)
    return [Text(text)] if text else []


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)
    m = float(np.max(x))
    return x - m - float(np.log(np.sum(np.exp(x - m))))


class _Blocks:
    """Parser outputs to numbered content blocks for one choice."""

    def __init__(self, choice: int, emit: Callable[[Event], None]) -> None:
        self._choice = choice
        self._emit = emit
        self._next = 0
        self._open: str | None = None
        self._pending_logprobs: list[TokenLogprob] = []

    def add(self, outputs: list[Output], logprob: TokenLogprob | None) -> None:
        if logprob is not None:
            self._pending_logprobs.append(logprob)
        for out in outputs:
            if isinstance(out, Text):
                if self._open != "text":
                    self._start("text")
                lp, self._pending_logprobs = self._pending_logprobs or None, []
                self._emit(TextDelta(self._next - 1, out.text, logprobs=lp, choice=self._choice))
            elif isinstance(out, CallStart):
                self._start("tool_call", name=out.name)
            elif isinstance(out, ArgsDelta):
                self._emit(ArgumentsDelta(self._next - 1, out.text, choice=self._choice))
            elif isinstance(out, CallEnd):
                self.close()
        if self._open == "tool_call":
            self._pending_logprobs = []

    def _start(self, kind: str, name: str | None = None) -> None:
        self.close()
        call_id = f"call_{secrets.token_hex(12)}" if kind == "tool_call" else None
        self._emit(
            BlockStart(self._next, kind, call_id=call_id, name=name, choice=self._choice)  # type: ignore[arg-type]
        )
        self._open = kind
        self._next += 1

    def close(self) -> None:
        if self._open is not None:
            self._emit(BlockStop(self._next - 1, choice=self._choice))
            self._open = None
