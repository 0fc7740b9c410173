"""The blocking side: one llama.cpp model, its tokenizer, and the scheduler that runs it.

``llm`` (a small llama-cpp-python ``Llama``) serves tokenizing, detokenizing and the
GGUF's metadata; generation runs on the ``Scheduler``'s own context, which shares the
model weights.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llama_cpp
import llama_cpp.llama as llama_module

from switchyard.core.events import Event
from switchyard.providers.local.plan import Outcome, Plan, Sampling
from switchyard.providers.local.scheduler import Done, Job, Layout, Scheduler

__all__ = ["Engine", "EngineSettings", "Outcome", "Plan", "Sampling", "load_engine"]

_PATCH_LOCK = threading.Lock()
_TOKENIZER_CTX = 64  # the Llama object only tokenizes: its own context stays tiny


@dataclass(slots=True)
class EngineSettings:
    context_length: int
    threads: int | None = None  # None: every CPU this process may run on
    threads_batch: int | None = None  # prompt evaluation; None: same as threads
    slots: int = 4
    max_queue: int = 16
    flash_attn: bool = False

    def layout(self) -> Layout:
        threads = self.threads or cpu_count()
        return Layout(n_ctx_seq=self.context_length, n_slots=max(1, self.slots), max_queue=max(0, self.max_queue),
                      threads=threads, threads_batch=self.threads_batch or threads, flash_attn=self.flash_attn)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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

    threads = threads or cpu_count()
    kwargs: dict[str, Any] = {"n_ctx": n_ctx, "n_batch": min(512, n_ctx), "n_ubatch": min(512, n_ctx),
                              "verbose": False, "n_threads": threads, "n_threads_batch": threads}
    with _PATCH_LOCK:
        llama_module.llama_cpp.llama_model_default_params = default_params
        try:
            return llama_cpp.Llama(str(path), **kwargs)
        finally:
            llama_module.llama_cpp.llama_model_default_params = original


def load_engine(path: Path, settings: EngineSettings) -> Engine:
    llm = load_llama(path, _TOKENIZER_CTX, settings.threads)
    return Engine(llm, settings.layout())


class Tokenizer:
    """Text to token ids with the model's vocabulary (needs no context)."""

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self.llm = llm

    def tokenize(self, text: str, bos: bool = False, special: bool = True) -> list[int]:
        """With ``special``, special-token text (template markup) becomes special tokens;
        without, it stays text (user content). With ``bos`` the model's own add-BOS
        setting applies, without doubling a template's BOS."""
        tokens = list(self.llm.tokenize(text.encode("utf-8"), add_bos=bos, special=special))
        if bos and len(tokens) > 1 and tokens[0] == tokens[1] == self.llm.token_bos():
            tokens = tokens[1:]
        return tokens


class Engine:
    def __init__(self, llm: llama_cpp.Llama, layout: Layout) -> None:
        self.llm = llm
        self.text = Tokenizer(llm)
        self._vocab = llm._model.vocab
        self._pieces: dict[int, bytes] = {}
        self.scheduler = Scheduler(llm._model.model, self._vocab, self.n_vocab, layout, self.piece,
                                   self.tokenize("\n"))

    @property
    def n_ctx(self) -> int:
        """Tokens one request may use: prompt and output together."""
        return self.scheduler.layout.n_ctx_seq

    @property
    def n_vocab(self) -> int:
        return int(self.llm.n_vocab())

    @property
    def tokens_generated(self) -> int:
        """Tokens generated since load, cancelled generations included."""
        return self.scheduler.tokens_generated

    @property
    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens run through the model since load (reused prefixes excluded)."""
        return self.scheduler.prompt_tokens_evaluated

    def tokenize(self, text: str, bos: bool = False, special: bool = True) -> list[int]:
        return self.text.tokenize(text, bos, special)

    def chat_template(self) -> str | None:
        return self.llm.metadata.get("tokenizer.chat_template")

    def token_text(self, token: int) -> str:
        return self.piece(token).decode("utf-8", errors="replace")

    def piece(self, token: int) -> bytes:
        """A token's bytes, special tokens rendered (cached: a token costs a lookup)."""
        cached = self._pieces.get(token)
        if cached is None:
            cached = self._pieces[token] = self.llm.detokenize([token], special=True)
        return cached

    def check_grammar(self, gbnf: str) -> bool:
        sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, gbnf.encode("utf-8"), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    def submit(self, jobs: list[tuple[Plan, Callable[[Event], None], Done]], cancelled: Callable[[], bool]) -> None:
        """Queue (all or none of) ``(plan, emit, done)`` jobs; ``emit(event)`` and ``done(outcome,
        error)`` are called from the scheduler thread. Raises an overloaded error when the queue is full."""
        self.scheduler.submit([Job(plan, emit, cancelled, done) for plan, emit, done in jobs])

    def close(self) -> None:
        self.scheduler.close()
        close = getattr(self.llm, "close", None)
        if close is not None:
            close()
