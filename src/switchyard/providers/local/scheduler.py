"""Continuous batching over one llama.cpp context.

One thread owns the context. Each step it builds one ``llama_batch`` holding the next
token of every generating sequence plus as much waiting prompt as fits, decodes it,
and samples every sequence that produced an output with that sequence's own sampler
chain. Sequences live in slots whose KV cache outlives the request, so the next request
sharing a prefix (a conversation's next turn, an agent's next call) evaluates only
what is new. Requests beyond the slots wait in a bounded queue; past that, submitting
fails at once with a retryable "overloaded" error.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import llama_cpp

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event
from switchyard.providers.local.generation import Generation, Step
from switchyard.providers.local.grammar import tool_call_gbnf
from switchyard.providers.local.plan import Outcome, Plan
from switchyard.providers.local.sampling import SamplerChain, log_softmax
from switchyard.providers.local.slots import Slot, choose

Done = Callable[[Outcome, SwitchyardError | None], None]


@dataclass(slots=True)
class Layout:
    """How the context is sized and driven."""

    n_ctx_seq: int  # tokens one sequence may hold: the model's promised context length
    n_slots: int
    max_queue: int
    threads: int
    threads_batch: int
    n_batch: int = 512
    flash_attn: bool = False


@dataclass(eq=False)
class Job:
    plan: Plan
    emit: Callable[[Event], None]
    cancelled: Callable[[], bool]
    done: Done
    outcome: Outcome = field(default_factory=Outcome)
    slot: Slot | None = None
    chain: SamplerChain | None = None
    gen: Generation | None = None
    pending: list[int] = field(default_factory=list)  # tokens to decode next
    in_prompt: bool = True
    started: float = 0.0


class Scheduler:
    def __init__(self, model: Any, vocab: Any, n_vocab: int, layout: Layout,
                 piece: Callable[[int], bytes], newline: list[int]) -> None:
        self.layout = layout
        self._vocab = vocab
        self._n_vocab = n_vocab
        self._piece = piece
        self._newline = newline
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = layout.n_ctx_seq * layout.n_slots
        params.n_batch = params.n_ubatch = layout.n_batch
        params.n_seq_max = layout.n_slots
        params.n_threads = layout.threads
        params.n_threads_batch = layout.threads_batch
        params.kv_unified = False  # each sequence its own stream of n_ctx_seq cells
        params.no_perf = True
        params.flash_attn_type = (llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if layout.flash_attn
                                  else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)
        self._ctx = llama_cpp.llama_init_from_model(model, params)
        if not self._ctx:
            raise SwitchyardError(ErrorKind.SERVER, "llama.cpp could not create a context for the local model")
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(layout.n_batch, 0, 1)
        self._slots = [Slot(seq) for seq in range(layout.n_slots)]
        self._waiting: deque[Job] = deque()
        self._active: list[Job] = []
        self._cond = threading.Condition()
        self._closing = False
        self._clock = 0
        self._job_seconds = 2.0  # moving average, for Retry-After
        self.prompt_tokens_evaluated = 0
        self.tokens_generated = 0
        self._thread = threading.Thread(target=self._loop, name="switchyard-llama", daemon=True)
        self._thread.start()

    @property
    def n_ctx_seq(self) -> int:
        return int(llama_cpp.llama_n_ctx_seq(self._ctx))

    @property
    def in_flight(self) -> int:
        with self._cond:
            return len(self._waiting) + len(self._active)

    def cached_prefixes(self) -> list[int]:
        """How many tokens each slot's KV cache holds."""
        with self._cond:
            return [len(s.tokens) for s in self._slots]

    def submit(self, jobs: list[Job]) -> None:
        """Queue jobs (all or none); raise an overloaded error when there is no room."""
        with self._cond:
            if self._closing:
                raise SwitchyardError(ErrorKind.SERVER, "the local provider is closed")
            # A job whose consumer has gone is on its way out: it holds no place.
            live = sum(not j.cancelled() for j in (*self._waiting, *self._active))
            if live + len(jobs) - self.layout.n_slots > self.layout.max_queue:
                wait = self._job_seconds * max(1, live + len(jobs) - self.layout.n_slots) / self.layout.n_slots
                raise SwitchyardError(
                    ErrorKind.OVERLOADED,
                    f"the local model is busy: {len(self._active)} requests generating and "
                    f"{len(self._waiting)} waiting, the most it queues; retry shortly",
                    code="overloaded", retry_after=str(max(1, min(60, math.ceil(wait)))),
                )
            now = time.monotonic()
            for job in jobs:
                job.started = now
                self._waiting.append(job)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    # -- the scheduler thread -------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._closing and not self._waiting and not self._active:
                        self._cond.wait()
                    if self._closing:
                        break
                    admitted = self._admit()
                for job in admitted:
                    self._setup(job)
                self._step()
        finally:
            with self._cond:
                stranded = [*self._waiting, *self._active]
                self._waiting.clear()
            for job in stranded:
                self._end(job, cancelled=True)
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self._ctx)

    def _admit(self) -> list[Job]:
        admitted: list[Job] = []
        while self._waiting:
            job = self._waiting[0]
            found = choose(self._slots, job.plan.tokens)
            if found is None:
                break
            self._waiting.popleft()
            slot, reuse = found
            slot.busy = True
            self._clock += 1
            slot.last_used = self._clock
            job.slot = slot
            # The prompt's last token is always evaluated: its logits give the first sample.
            self._reuse(slot, max(0, min(reuse, len(job.plan.tokens) - 1)))
            job.outcome.cached_tokens = len(slot.tokens)
            job.pending = job.plan.tokens[len(slot.tokens):]
            self._active.append(job)
            admitted.append(job)
        return admitted

    def _reuse(self, slot: Slot, keep: int) -> None:
        if keep < len(slot.tokens):
            if not llama_cpp.llama_memory_seq_rm(self._mem, slot.seq, keep, -1):
                llama_cpp.llama_memory_seq_rm(self._mem, slot.seq, -1, -1)
                keep = 0
            del slot.tokens[keep:]

    def _setup(self, job: Job) -> None:
        if job.cancelled():
            self._end(job, cancelled=True)
            return
        try:
            job.chain = self._chain(job.plan, job.plan.grammar)
            job.gen = Generation(job.plan, job.emit, self._piece)
        except SwitchyardError as exc:
            self._end(job, error=exc)

    def _chain(self, plan: Plan, grammar: str | None) -> SamplerChain:
        s = plan.sampling
        return SamplerChain(
            self._vocab, self._n_vocab, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k,
            presence_penalty=s.presence_penalty, frequency_penalty=s.frequency_penalty,
            seed=None if s.seed is None else s.seed + plan.choice, logit_bias=plan.logit_bias, grammar=grammar,
        )

    def _step(self) -> None:
        for job in list(self._active):
            if job.cancelled():
                self._end(job, cancelled=True)
        ready = [j for j in self._active if j.gen is not None and j.pending]
        # Generating sequences first (one token each), then prompts in arrival order.
        ready.sort(key=lambda j: len(j.pending) > 1)
        batch, n = self._batch, 0
        outputs: list[tuple[Job, int]] = []
        added: list[Job] = []
        for job in ready:
            take = min(len(job.pending), self.layout.n_batch - n)
            if take <= 0:
                break
            slot = job.slot
            assert slot is not None
            pos = len(slot.tokens)
            last = take == len(job.pending)
            for k in range(take):
                batch.token[n] = job.pending[k]
                batch.pos[n] = pos + k
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = slot.seq
                batch.logits[n] = 1 if last and k == take - 1 else 0
                n += 1
            slot.tokens.extend(job.pending[:take])
            added.append(job)
            if job.in_prompt:
                self.prompt_tokens_evaluated += take
            job.pending = job.pending[take:]
            if last:
                outputs.append((job, n - 1))
        if n == 0:
            return
        batch.n_tokens = n
        rc = llama_cpp.llama_decode(self._ctx, batch)
        if rc != 0:
            error = SwitchyardError(ErrorKind.SERVER, f"local generation failed: llama_decode returned {rc}")
            for job in added:
                self._forget(job)
                self._end(job, error=error)
            return
        for job, index in outputs:
            try:
                self._sample(job, index)
            except SwitchyardError as exc:
                self._end(job, error=exc)
            except Exception as exc:  # a bug must fail its request, not the scheduler
                self._end(job, error=SwitchyardError(ErrorKind.SERVER, f"local generation failed: {exc}"))

    def _sample(self, job: Job, index: int) -> None:
        assert job.chain is not None and job.gen is not None and job.slot is not None
        plan = job.plan
        logprobs = log_softmax(self._ctx, index, self._n_vocab, plan.logit_bias) if plan.logprobs else None
        token = job.chain.sample(self._ctx, index)
        job.in_prompt = False
        eog = bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))
        if not eog:
            self.tokens_generated += 1
        step = job.gen.feed(token, eog, logprobs)
        if step is Step.DONE:
            self._end(job)
            return
        job.pending = [token]
        if step is Step.CONSTRAIN:
            job.chain.close()
            job.chain = self._chain(plan, tool_call_gbnf(plan.tools))
            job.pending = [token, *self._newline]
        if len(job.slot.tokens) + len(job.pending) >= self.layout.n_ctx_seq:
            self._end(job)  # the context is full: finish as "length"

    def _forget(self, job: Job) -> None:
        """A failed decode leaves the sequence's cache unknown: drop it."""
        if job.slot is not None:
            llama_cpp.llama_memory_seq_rm(self._mem, job.slot.seq, -1, -1)
            job.slot.tokens.clear()

    def _end(self, job: Job, *, error: SwitchyardError | None = None, cancelled: bool = False) -> None:
        if error is None and not cancelled and job.gen is not None:
            try:
                job.gen.finish()
            except Exception as exc:
                error = SwitchyardError(ErrorKind.SERVER, f"local generation failed: {exc}")
        if job.chain is not None:
            job.chain.close()
            job.chain = None
        with self._cond:
            if job in self._active:
                self._active.remove(job)
            if job.slot is not None:
                job.slot.busy = False
                self._clock += 1
                job.slot.last_used = self._clock
            elapsed = time.monotonic() - job.started
            self._job_seconds = 0.8 * self._job_seconds + 0.2 * elapsed
        job.outcome.completion_tokens = job.gen.generated if job.gen is not None else 0
        job.outcome.cancelled = cancelled
        job.done(job.outcome, error)
