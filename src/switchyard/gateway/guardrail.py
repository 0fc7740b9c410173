"""The moderation guardrail: a project's policy applied to the input of every model call
(``engine/generation.py``), on every surface and backend, and to Images API prompts.

Once per call (a Responses tool loop is one call), before the budget is reserved, the
latest user turn's text (the user messages after the last assistant item) is classified
by the project's moderation model. Then, by the project's mode:

- ``block``: a 400 ``content_policy_violation`` in the surface's own error shape, naming
  the flagged categories; no model is called.
- ``flag``: the call goes on; the answer carries ``x-switchyard-moderation-flagged``
  with the categories, and a warning is logged.
- ``log``: the call goes on; a warning is logged (request id, project, categories).

If the moderation model cannot answer, ``block`` fails closed (503) and the other modes
log the failure and go on.

A project may screen model output too (``output_mode``, ``output_guardrail.py``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event
from switchyard.core.items import FunctionCall, ImagePart, Message
from switchyard.core.moderation import ModerationInput
from switchyard.core.request import Request
from switchyard.gateway.call_scope import current_scope
from switchyard.gateway.grants import GuardrailPolicy
from switchyard.gateway.guardrail_classify import classify
from switchyard.gateway.output_guardrail import screened_output
from switchyard.gateway.telemetry.request_trace import RequestTrace, current_trace

log = logging.getLogger("switchyard.guardrail")

FLAG_HEADER = "x-switchyard-moderation-flagged"
# the client's field holding the input, by surface (for the error's ``param``)
INPUT_PARAM = {"openai.chat": "messages", "anthropic.messages": "messages", "openai.responses": "input",
               "openai.completions": "prompt", "openai.images": "prompt"}


def latest_user_turn(request: Request) -> list[Message]:
    """The user messages after the last assistant message or function call."""
    messages: list[Message] = []
    for item in reversed(request.items):
        if isinstance(item, FunctionCall) or (isinstance(item, Message) and item.role == "assistant"):
            break
        if isinstance(item, Message) and item.role == "user":
            messages.append(item)
    return messages[::-1]


def latest_user_texts(request: Request) -> list[str]:
    """The text of each message of the latest user turn."""
    return [m.text() for m in latest_user_turn(request) if m.text().strip()]


def _image_url(part: ImagePart) -> str | None:
    if part.url is not None:
        return part.url
    if part.data is not None:
        return f"data:{part.media_type or 'image/png'};base64,{part.data}"
    return None


def latest_user_inputs(request: Request, with_images: bool) -> list[ModerationInput]:
    """One input per message of the latest user turn: its text, and its images when the
    moderation model takes them."""
    inputs: list[ModerationInput] = []
    for message in latest_user_turn(request):
        text = message.text()
        images = [url for p in message.content if isinstance(p, ImagePart) and (url := _image_url(p))] \
            if with_images else []
        if text.strip() or images:
            inputs.append(ModerationInput(texts=(text,) if text.strip() else (), images=tuple(images)))
    return inputs


def _policy() -> tuple[RequestTrace, GuardrailPolicy, str] | None:
    """The call's trace, its project's policy and its surface, when a screening is due."""
    trace = current_trace()
    scope = current_scope()
    if trace is None or scope is None or trace.screened:
        return None
    policy = scope.principal.project_guardrail
    if policy is None or trace.services.moderation is None:
        return None
    return trace, policy, scope.surface


def guarded(request: Request, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """``events``, after the project's guardrail passed the request, and screened as they
    come when the project screens output too (unchanged when the project has no guardrail,
    or outside an observed call)."""
    trace, scope = current_trace(), current_scope()
    if trace is None or scope is None or trace.services.moderation is None:
        return events
    policy = scope.principal.project_guardrail
    if policy is None:
        return events
    if policy.output_mode is not None:
        events = screened_output(trace, policy, request.stream, events)
    if trace.screened:
        return events
    return _guarded(trace, policy, scope.surface, request, events)


async def screen_prompt(prompt: str) -> None:
    """The guardrail on a prompt that is no chat input (the Images API's)."""
    due = _policy()
    if due is not None:
        trace, policy, surface = due
        trace.screened = True
        inputs = [ModerationInput(texts=(prompt,))] if prompt.strip() else []
        await _screen(trace, policy, surface, lambda images: inputs)


async def _guarded(trace: RequestTrace, policy: GuardrailPolicy, surface: str, request: Request,
                   events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    trace.screened = True
    try:
        await _screen(trace, policy, surface, lambda images: latest_user_inputs(request, images))
    except BaseException:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
        raise
    async for event in events:
        yield event


async def _screen(trace: RequestTrace, policy: GuardrailPolicy, surface: str,
                  inputs_of: Callable[[bool], list[ModerationInput]]) -> None:
    found = await classify(trace, policy, policy.mode, "input", inputs_of)
    if found is None or not found[1]:
        return
    model, hits = found
    if policy.mode == "block":
        raise SwitchyardError(
            ErrorKind.INVALID_REQUEST,
            f"The input was blocked by this project's moderation guardrail (model '{model}'): "
            f"flagged for {', '.join(hits)}.",
            param=INPUT_PARAM.get(surface), code="content_policy_violation")
    if policy.mode == "flag":
        trace.moderation_flags = tuple(hits)
