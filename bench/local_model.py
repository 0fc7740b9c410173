"""Embedded-model benchmark: Switchyard's local provider beside raw llama-cpp-python.

Both run the same GGUF in this process, with the same thread count, context size and
prompt, taking turns (never at the same time) for ``--rounds`` rounds; the figures are
medians over rounds and the ratios are taken within each round.

- ``single``: one greedy stream of ``--tokens`` tokens continuing a counting prompt (so
  neither side stops early); tokens/s is measured between the first and the last token.
- ``concurrent``: ``--streams`` such streams at once through the provider, against the
  same number run one after another through raw ``Llama`` (which serves one at a time);
  aggregate tokens/s is all tokens over the wall time from the first request to the
  last token.
- ``agent``: time to first token on an agent-style prompt of ``--agent-tokens`` tokens
  (a system prompt with tools, then source files read by tool calls), cold (nothing
  cached) and warm (the same conversation one tool call later, as the agent's next
  request). Raw ``Llama`` keeps the previous prompt's KV too (it reuses the longest
  prefix of the one prompt it last saw), so it is measured the same way.

    .venv/bin/python bench/local_model.py                      # all three, 3 rounds
    .venv/bin/python bench/local_model.py --only single,concurrent --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import llama_cpp

from switchyard.config import ModelConfig
from switchyard.core.events import TextDelta, UsageReport
from switchyard.core.items import text_message
from switchyard.core.request import Request
from switchyard.providers.local import LocalProvider, ensure_default_model
from switchyard.providers.local.engine import cpu_count, load_llama

ROOT = Path(__file__).resolve().parent.parent


def counting_prompt(start: int) -> str:
    return ", ".join(str(i) for i in range(start, start + 8)) + ","


def agent_messages(tokens: int, count: Callable[[str], int]) -> list[tuple[str, str]]:
    """A coding agent's conversation: system prompt, a task, then files read by tool calls,
    until about ``tokens`` tokens."""
    system = ("You are a coding agent working in a Python repository. Use the tools to read files, "
              "then propose a patch. Tools: read_file(path), apply_patch(patch), run_tests(args).")
    turns: list[tuple[str, str]] = [("system", system), ("user", "Find why the local provider is slow and fix it.")]
    files = sorted((ROOT / "src" / "switchyard").rglob("*.py"))
    used = count(system) + 40
    for path in files:
        text = path.read_text()
        n = count(text)
        if used + n > tokens:
            break
        rel = path.relative_to(ROOT)
        turns.append(("assistant", f'{{"tool": "read_file", "path": "{rel}"}}'))
        turns.append(("user", f"[tool result for read_file {rel}]\n{text}"))
        used += n + 30
    return turns


def chatml(turns: list[tuple[str, str]]) -> str:
    return "".join(f"<|im_start|>{r}\n{c}<|im_end|>\n" for r, c in turns) + "<|im_start|>assistant\n"


class Provider:
    def __init__(self, model: Path, n_ctx: int, threads: int, slots: int) -> None:
        config = ModelConfig(name="bench", provider="local", path=str(model), context_length=n_ctx,
                             threads=threads, slots=slots, max_queue=64)
        self.p = LocalProvider(config, Path(tempfile.gettempdir()))
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.p.start())

    def stream(self, prompt: str, max_tokens: int, chat: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        return self.loop.run_until_complete(self._one(prompt, max_tokens, chat))

    def streams(self, prompts: list[str], max_tokens: int) -> list[dict[str, Any]]:
        async def all_() -> list[dict[str, Any]]:
            return list(await asyncio.gather(*(self._one(p, max_tokens, None) for p in prompts)))

        return self.loop.run_until_complete(all_())

    async def _one(self, prompt: str, max_tokens: int, chat: list[tuple[str, str]] | None) -> dict[str, Any]:
        if chat is None:
            req = Request(model="bench", items=[text_message("user", prompt)], temperature=0,
                          max_output_tokens=max_tokens, metadata={"raw_prompt": True})
        else:
            req = Request(model="bench", items=[text_message(r, c) for r, c in chat], temperature=0,
                          max_output_tokens=max_tokens)
        t0 = time.perf_counter()
        stamps: list[float] = []
        cached = 0
        async for event in self.p.generate(req):
            if isinstance(event, TextDelta):
                stamps.append(time.perf_counter())
            elif isinstance(event, UsageReport):
                cached = event.usage.cached_input_tokens
        return {"t0": t0, "stamps": stamps, "cached": cached}

    def close(self) -> None:
        self.loop.run_until_complete(self.p.aclose())
        self.loop.close()


class Raw:
    def __init__(self, model: Path, n_ctx: int, threads: int) -> None:
        # Loaded through the provider's loader, so model parameters (CPU buffer types) match;
        # the Llama object is the stock one, generating through create_completion.
        self.llm = load_llama(model, n_ctx, threads)

    def stream(self, prompt: str, max_tokens: int, chat: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        text = chatml(chat) if chat is not None else prompt
        t0 = time.perf_counter()
        stamps: list[float] = []
        for _chunk in self.llm.create_completion(text, max_tokens=max_tokens, temperature=0, stream=True):
            stamps.append(time.perf_counter())
        return {"t0": t0, "stamps": stamps}

    def forget(self) -> None:
        self.llm.reset()
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.llm._ctx.ctx), True)

    def close(self) -> None:
        self.llm.close()


def decode_rate(run: dict[str, Any]) -> float:
    s = run["stamps"]
    return (len(s) - 1) / (s[-1] - s[0])


def aggregate_rate(runs: list[dict[str, Any]]) -> float:
    start = min(r["t0"] for r in runs)
    end = max(r["stamps"][-1] for r in runs)
    return sum(len(r["stamps"]) for r in runs) / (end - start)


def ttft(run: dict[str, Any]) -> float:
    return float(run["stamps"][0] - run["t0"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--streams", type=int, default=4)
    ap.add_argument("--threads", type=int, default=cpu_count())
    ap.add_argument("--agent-tokens", type=int, default=20000)
    ap.add_argument("--agent-rounds", type=int, default=2)
    ap.add_argument("--only", default="single,concurrent,agent")
    args = ap.parse_args()
    only = set(args.only.split(","))
    model = ensure_default_model(Path(os.environ.get("SWITCHYARD_TEST_CACHE", ROOT / ".cache")))
    n_ctx = 24576 if "agent" in only else 4096
    results: dict[str, Any] = {
        "machine": {"cpu": _cpu(), "cpus_usable": cpu_count(), "python": platform.python_version(),
                    "llama_cpp_python": llama_cpp.__version__, "threads": args.threads, "n_ctx": n_ctx},
        "args": vars(args),
    }
    provider = Provider(model, n_ctx, args.threads, args.streams)
    raw = Raw(model, n_ctx, args.threads)
    print(f"model {model.name}, threads {args.threads}, n_ctx {n_ctx}", file=sys.stderr)
    rows: dict[str, list[float]] = {}

    def note(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)
        print(f"  {key}: {value:.3f}", file=sys.stderr)

    prompts = [counting_prompt(1 + 100 * i) for i in range(args.streams)]
    for r in range(args.rounds):
        print(f"round {r + 1}", file=sys.stderr)
        if "single" in only:
            raw_rate = decode_rate(raw.stream(prompts[0], args.tokens))
            sy_rate = decode_rate(provider.stream(prompts[0], args.tokens))
            note("single raw tok/s", raw_rate)
            note("single switchyard tok/s", sy_rate)
            note("single ratio switchyard/raw", sy_rate / raw_rate)
        if "concurrent" in only:
            raw_runs = [raw.stream(p, args.tokens) for p in prompts]
            sy_runs = provider.streams(prompts, args.tokens)
            raw_agg, sy_agg = aggregate_rate(raw_runs), aggregate_rate(sy_runs)
            note(f"{args.streams} streams raw (one at a time) tok/s", raw_agg)
            note(f"{args.streams} streams switchyard aggregate tok/s", sy_agg)
            note(f"{args.streams} streams ratio switchyard/raw", sy_agg / raw_agg)
    if "agent" in only:
        count = provider.p._require_engine().tokenize
        turns = agent_messages(args.agent_tokens, lambda t: len(count(t)))
        next_turn = [*turns, ("assistant", '{"tool": "run_tests", "args": "-k local"}'),
                     ("user", "[tool result for run_tests]\n3 passed, 1 failed: test_speed")]
        results["agent_prompt_tokens"] = len(count(chatml(next_turn)))
        for r in range(args.agent_rounds):
            print(f"agent round {r + 1}", file=sys.stderr)
            raw.forget()
            raw_cold = ttft(raw.stream("", 1, turns))
            raw_warm = ttft(raw.stream("", 1, next_turn))
            # A different conversation in every round, so the provider's cache starts cold.
            salted = [(turns[0][0], f"{turns[0][1]} Session {r}.{time.time()}"), *turns[1:]]
            salted_next = [salted[0], *next_turn[1:]]
            cold_run = provider.stream("", 1, salted)
            warm_run = provider.stream("", 1, salted_next)
            note("agent raw cold ttft s", raw_cold)
            note("agent raw warm ttft s", raw_warm)
            note("agent switchyard cold ttft s", ttft(cold_run))
            note("agent switchyard warm ttft s", ttft(warm_run))
            note("agent switchyard warm cached tokens", warm_run["cached"])
            note("agent switchyard cold/warm", ttft(cold_run) / ttft(warm_run))
    provider.close()
    raw.close()
    results["medians"] = {k: statistics.median(v) for k, v in rows.items()}
    results["rounds"] = rows
    print(json.dumps(results, indent=2))


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    main()
