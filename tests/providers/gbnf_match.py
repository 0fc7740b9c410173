"""Does llama.cpp's grammar engine accept a text under a GBNF grammar? Asked the way
decoding asks it: token by token through the grammar sampler, then end of text."""

from __future__ import annotations

import ctypes
import math

import llama_cpp


def accepts(llm: llama_cpp.Llama, gbnf: str, text: str) -> bool:
    vocab = llm._model.vocab
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
    assert sampler, f"llama.cpp refused the grammar:\n{gbnf}"
    try:
        tokens = list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        for token in [*tokens, llm.token_eos()]:
            data = (llama_cpp.llama_token_data * 1)()
            data[0].id, data[0].logit, data[0].p = token, 0.0, 0.0
            candidates = llama_cpp.llama_token_data_array(data=data, size=1, selected=-1, sorted=False)
            llama_cpp.llama_sampler_apply(sampler, ctypes.byref(candidates))
            if math.isinf(data[0].logit):
                return False
            if token != llm.token_eos():
                llama_cpp.llama_sampler_accept(sampler, token)
        return True
    finally:
        llama_cpp.llama_sampler_free(sampler)
