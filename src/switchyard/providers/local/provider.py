"""The embedded provider: a GGUF model run in-process by llama.cpp.

One model instance serves every request. Its scheduler thread decodes several
requests together (``scheduler.py``); each streams its events back to the event loop
through an asyncio queue, and stops within one token once its consumer goes away.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from jinja2 import TemplateError

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.events import Event, Failure, Start, UsageReport
from switchyard.core.request import Request, Tool
from switchyard.core.usage import Usage
from switchyard.providers.base import Capabilities, implicit, native, translated, unsupported
from switchyard.providers.local.engine import (
    Engine,
    EngineSettings,
    Outcome,
    Plan,
    Sampling,
    Tokenizer,
    load_engine,
)
from switchyard.providers.local.grammar import (
    JSON_OBJECT_GBNF,
    input_gbnf,
    schema_gbnf,
    schema_grammar,
    tool_call_gbnf,
)
from switchyard.providers.local.model_files import ModelUnavailable, ensure_default_model
from switchyard.providers.local.prompt import Segment, chat_messages, chat_tools, raw_prompt, render_segments
from switchyard.providers.local.templates import tool_style

# Used when a GGUF file carries no chat template of its own.
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_DONE = object()
log = logging.getLogger(__name__)

PARAMETERS = {
    "temperature": native(), "top_p": native(), "top_k": native(), "max_output_tokens": native(),
    "stop": native(), "seed": native(), "n": native("one generation per choice"),
    "logprobs": native("logprobs, top_logprobs"),
    "presence_penalty": native(), "frequency_penalty": native(),
    "logit_bias": native("keys are token ids of the local model's own vocabulary"),
    "parallel_tool_calls": translated("false: generation stops after the first tool call"),
    "reasoning": unsupported("the embedded model does not reason"),
    "service_tier": implicit("one tier: 'default'", frozenset({"default"})),
    "prompt_cache_key": implicit("one model instance: every request reuses the cached prompt prefix"),
    "verbosity": unsupported("the embedded model has no verbosity setting"),
    "user": implicit("no upstream to pass it to; the end user is Switchyard's own caller"),
    "prediction": unsupported("predicted outputs are not implemented"),
    "audio": unsupported("the embedded model has no audio output"),
    "anthropic_tools": unsupported("Anthropic server tools run only on Anthropic's API"),
    "openai_tools": unsupported("OpenAI hosted tools run only on OpenAI's API"),
    "openai_options": unsupported("an OpenAI-only option"),
    "store": unsupported("Switchyard keeps no chat completions"),
    "unavailable": unsupported("not available on this server"),
    "anthropic_options": unsupported("an Anthropic-only option"),
    "anthropic_beta": unsupported("an Anthropic beta option"),
}


class LocalProvider:
    capabilities = Capabilities(json_schema=True, parameters=PARAMETERS)

    def __init__(self, config: ModelConfig, data_dir: Path) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self._engine: Engine | None = None
        self._start_lock = asyncio.Lock()
        self._active: set[threading.Event] = set()
        self._closed = False
        self._warned: set[str] = set()  # custom tool grammars already reported as untranslatable

    async def start(self) -> None:
        """Assemble (if needed) and load the model; later calls return at once."""
        async with self._start_lock:
            if self._engine is not None:
                return
            if self._closed:
                raise SwitchyardError(ErrorKind.SERVER, "the local provider is closed")
            path = await asyncio.to_thread(self._model_path)
            c = self.config
            settings = EngineSettings(context_length=c.context_length, threads=c.threads,
                                      threads_batch=c.threads_batch, slots=c.slots, max_queue=c.max_queue,
                                      flash_attn=c.flash_attn)
            self._engine = await asyncio.to_thread(load_engine, path, settings)

    def _model_path(self) -> Path:
        if self.config.path:
            path = Path(self.config.path).expanduser()
            if not path.is_file():
                raise ModelUnavailable(f"model {self.config.name}: no GGUF file at {path}")
            return path
        return ensure_default_model(self.data_dir)

    @property
    def tokens_generated(self) -> int:
        """Tokens generated since the model loaded (cancelled generations included)."""
        return 0 if self._engine is None else self._engine.tokens_generated

    @property
    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens the model evaluated since it loaded; reused cached prefixes are not counted."""
        return 0 if self._engine is None else self._engine.prompt_tokens_evaluated

    async def count_tokens(self, request: Request) -> int:
        await self.start()
        tokens, _ = await asyncio.to_thread(self._prompt, request)
        return len(tokens)

    async def generate(self, request: Request) -> AsyncIterator[Event]:
        await self.start()
        plans = await asyncio.to_thread(self._plans, request)
        run = _Run(self._require_engine(), plans, asyncio.get_running_loop())
        self._active.add(run.cancel)
        try:
            run.submit()  # raises (before any event) when the queue is full
            yield Start(id=None, model=self.config.name)
            async for event in run.events():
                yield event
                if isinstance(event, Failure):
                    return
            outcome = run.outcomes[0]
            completion = sum(o.completion_tokens for o in run.outcomes)
            yield UsageReport(Usage(input_tokens=len(plans[0].tokens), output_tokens=completion,
                                    cached_input_tokens=outcome.cached_tokens))
        finally:
            run.cancel.set()
            self._active.discard(run.cancel)

    async def aclose(self) -> None:
        self._closed = True
        for cancel in list(self._active):
            cancel.set()
        async with self._start_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            await asyncio.to_thread(engine.close)

    # -- planning (runs off the event loop: tokenizing long prompts takes a while) ------

    def _require_engine(self) -> Engine:
        if self._engine is None:
            raise SwitchyardError(ErrorKind.SERVER, "the local provider is not started")
        return self._engine

    def _prompt(self, request: Request) -> tuple[list[int], str]:
        """The prompt's tokens and the assistant prefill they end with. Only the
        template's markup may become special tokens; every content is plain text."""
        engine = self._require_engine()
        if request.metadata.get("raw_prompt") is True:
            return engine.tokenize(raw_prompt(request), bos=True), ""
        template = engine.chat_template() or CHATML_TEMPLATE
        style = tool_style(template)
        messages = chat_messages(request, native_tools=style.native)
        if not messages:
            raise invalid("the conversation has no messages", "messages")
        try:
            segments = render_segments(
                template,
                messages,
                chat_tools(request),
                bos_token=engine.token_text(engine.llm.token_bos()),
                eos_token=engine.token_text(engine.llm.token_eos()),
            )
        except TemplateError as exc:
            raise SwitchyardError(ErrorKind.SERVER, f"chat template failed: {exc}") from exc
        prefill = style.prefill if _forced_tool(request) else ""
        if prefill:
            segments.append(Segment(prefill, data=False))
        return _tokenize(engine, segments), prefill

    def unenforced(self, request: Request) -> list[str]:
        """The schema keywords the grammar leaves unchecked for this request (checked
        after generation instead, by the caller)."""
        lost: set[str] = set()
        fmt = request.response_format
        if fmt is not None and fmt.type == "json_schema" and isinstance(fmt.schema, dict):
            lost.update(schema_grammar(fmt.schema).unenforced)
        if request.metadata.get("raw_prompt") is not True:
            for tool in _tools_in_play(request):
                if tool.strict and tool.grammar is None:
                    lost.update(schema_grammar(tool.parameters).unenforced)
        return sorted(lost)

    def _warn_untranslatable(self, tools: list[Tool]) -> None:
        for tool in tools:
            if tool.grammar is None or tool.grammar.definition in self._warned:
                continue
            result = input_gbnf(tool.grammar, "ct")
            if isinstance(result, Exception):
                self._warned.add(tool.grammar.definition)
                log.warning("custom tool %s: its %s grammar cannot be enforced on the local model (%s); "
                            "it is only described in the prompt", tool.name, tool.grammar.syntax, result)

    def _plans(self, request: Request) -> list[Plan]:
        engine = self._require_engine()
        tools = [] if request.metadata.get("raw_prompt") is True else _tools_in_play(request)
        self._warn_untranslatable(tools)
        tokens, prefill = self._prompt(request)
        room = engine.n_ctx - len(tokens)
        if room <= 0:
            param = "input" if request.metadata.get("raw_prompt") is True else "messages"
            raise invalid(
                f"the prompt is {len(tokens)} tokens, which does not fit this model's context "
                f"length of {engine.n_ctx} tokens; shorten the {param}",
                param,
                code="context_length_exceeded",
            )
        max_tokens = min(request.max_output_tokens or room, room)
        if max_tokens <= 0:
            raise invalid("max_output_tokens must be at least 1", "max_output_tokens")
        plan = Plan(
            tokens=tokens,
            max_tokens=max_tokens,
            sampling=_sampling(request),
            stops=list(request.stop),
            grammar=_grammar(request, tools),
            tools=tools,
            prefill=prefill,
            strict_tools=any(t.strict or t.grammar is not None for t in tools) and not prefill,
            logprobs=request.logprobs,
            top_logprobs=request.top_logprobs or 0,
            single_call=request.parallel_tool_calls is False,
            logit_bias=_logit_bias(request, engine.n_vocab),
        )
        if request.n < 1:
            raise invalid("n must be at least 1", "n")
        return [replace(plan, choice=i) for i in range(request.n)]


def _tokenize(engine: Engine | Tokenizer, segments: list[Segment]) -> list[int]:
    """Markup with special tokens, data without; the model's BOS once, up front."""
    tokens: list[int] = []
    for i, segment in enumerate(segments):
        tokens += engine.tokenize(segment.text, bos=i == 0, special=not segment.data)
    if not segments:
        tokens = engine.tokenize("", bos=True)
    return tokens


class _Run:
    """One request's choices, generated side by side as parallel sequences. Choice 0
    streams as it comes; later choices follow in order (their events held until then)."""

    def __init__(self, engine: Engine, plans: list[Plan], loop: asyncio.AbstractEventLoop) -> None:
        self._engine = engine
        self._plans = plans
        self._loop = loop
        self.cancel = threading.Event()
        self.outcomes = [Outcome() for _ in plans]
        self._queues: list[asyncio.Queue[Any]] = [asyncio.Queue() for _ in plans]

    def submit(self) -> None:
        def sink(choice: int) -> tuple[Callable[[Event], None], Callable[[Outcome, SwitchyardError | None], None]]:
            queue = self._queues[choice]

            def put(item: Any) -> None:
                try:
                    self._loop.call_soon_threadsafe(queue.put_nowait, item)
                except RuntimeError:  # the event loop is gone
                    self.cancel.set()

            def done(outcome: Outcome, error: SwitchyardError | None) -> None:
                self.outcomes[choice] = outcome
                if error is not None:
                    put(Failure(error))
                put(_DONE)

            return put, done

        self._engine.submit([(plan, *sink(plan.choice)) for plan in self._plans], self.cancel.is_set)

    async def events(self) -> AsyncIterator[Event]:
        for queue in self._queues:
            while (item := await queue.get()) is not _DONE:
                yield item



def _tools_in_play(request: Request) -> list[Any]:
    choice = request.tool_choice
    if choice is None or choice.mode in ("auto", "required"):
        if choice is not None and choice.mode == "required" and not request.tools:
            raise invalid("tool_choice 'required' needs at least one tool", "tool_choice")
        return list(request.tools)
    if choice.mode == "none":
        return []
    if request.tool(choice.name or "") is None:
        raise invalid(f"tool_choice names an unknown tool '{choice.name}'", "tool_choice")
    return list(request.tools)


def _forced_tool(request: Request) -> bool:
    choice = request.tool_choice
    return (
        choice is not None
        and choice.mode in ("required", "tool")
        and bool(request.tools)
        and request.metadata.get("raw_prompt") is not True
    )


def _grammar(request: Request, tools: list[Any]) -> str | None:
    if _forced_tool(request):
        name = request.tool_choice.name if request.tool_choice.mode == "tool" else None  # type: ignore[union-attr]
        return tool_call_gbnf(tools, name)
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return JSON_OBJECT_GBNF
    if not isinstance(fmt.schema, dict):
        raise invalid("response_format json_schema needs a schema", "response_format.json_schema")
    return schema_gbnf(fmt.schema)


def _logit_bias(request: Request, n_vocab: int) -> dict[int, float]:
    bias = {int(k): v for k, v in (request.logit_bias or {}).items() if v != 0}
    for token in bias:
        if token >= n_vocab:
            raise invalid(f"logit_bias: token id {token} is not in this model's vocabulary of {n_vocab} "
                          "tokens", request.param_name("logit_bias"))
    return bias


def _sampling(request: Request) -> Sampling:
    s = Sampling(seed=request.seed)
    if request.temperature is not None:
        s.temperature = max(0.0, request.temperature)
    if request.top_p is not None:
        s.top_p = request.top_p
    if request.top_k is not None:
        s.top_k = request.top_k
    s.presence_penalty = request.presence_penalty or 0.0
    s.frequency_penalty = request.frequency_penalty or 0.0
    return s
