"""One sequence's llama.cpp sampler chain, and log-probabilities when asked for.

The chain runs in C on the logits llama.cpp already holds: no per-token copy of the
vocabulary into Python unless ``logprobs`` are requested.
"""

from __future__ import annotations

import ctypes
import secrets
from typing import Any

import llama_cpp
import numpy as np

from switchyard.core.errors import ErrorKind, SwitchyardError

PENALTY_LAST_N = 64  # the window llama-cpp-python's high-level API penalises


class SamplerChain:
    """Built from a plan's sampling settings; freed with ``close``."""

    def __init__(
        self,
        vocab: Any,
        n_vocab: int,
        *,
        temperature: float,
        top_p: float,
        top_k: int,
        presence_penalty: float,
        frequency_penalty: float,
        seed: int | None,
        logit_bias: dict[int, float],
        grammar: str | None,
    ) -> None:
        params = llama_cpp.llama_sampler_chain_default_params()
        params.no_perf = True
        self._chain = llama_cpp.llama_sampler_chain_init(params)
        if logit_bias:
            items = (llama_cpp.llama_logit_bias * len(logit_bias))()
            for i, (token, bias) in enumerate(logit_bias.items()):
                items[i] = llama_cpp.llama_logit_bias(token, bias)
            self._add(llama_cpp.llama_sampler_init_logit_bias(n_vocab, len(logit_bias), items))
        if presence_penalty or frequency_penalty:
            self._add(llama_cpp.llama_sampler_init_penalties(
                n_vocab, PENALTY_LAST_N, 1.0, frequency_penalty, presence_penalty))
        if grammar is not None:
            sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
            if not sampler:
                self.close()
                raise SwitchyardError(ErrorKind.SERVER, "could not build a grammar for this schema")
            self._add(sampler)
        if temperature <= 0:
            self._add(llama_cpp.llama_sampler_init_greedy())
            return
        if top_k > 0:
            self._add(llama_cpp.llama_sampler_init_top_k(top_k))
        if top_p < 1.0:
            self._add(llama_cpp.llama_sampler_init_top_p(top_p, 1))
        self._add(llama_cpp.llama_sampler_init_temp(temperature))
        self._add(llama_cpp.llama_sampler_init_dist(seed if seed is not None else secrets.randbits(31)))

    def _add(self, sampler: Any) -> None:
        llama_cpp.llama_sampler_chain_add(self._chain, sampler)

    def sample(self, ctx: Any, index: int) -> int:
        """Sample (and accept) a token from the ``index``-th output of the last decode."""
        return int(llama_cpp.llama_sampler_sample(self._chain, ctx, index))

    def close(self) -> None:
        if self._chain is not None:
            llama_cpp.llama_sampler_free(self._chain)
            self._chain = None


def log_softmax(ctx: Any, index: int, n_vocab: int, bias: dict[int, float]) -> np.ndarray:
    """The log-probabilities of the ``index``-th output's logits (logit bias applied)."""
    pointer = llama_cpp.llama_get_logits_ith(ctx, index)
    logits = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(n_vocab,))
    x = logits.astype(np.float64)
    if bias:
        x[np.fromiter(bias, dtype=np.int64)] += np.fromiter(bias.values(), dtype=np.float64)
    m = float(np.max(x))
    return x - m - float(np.log(np.sum(np.exp(x - m))))
