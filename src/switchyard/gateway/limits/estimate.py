"""The token estimate reserved at admission: the prompt, counted cheaply (characters / 4,
no tokenizer on the hot path), plus the most the call may write."""

from __future__ import annotations

from switchyard.core.items import FunctionCall, FunctionCallOutput, Message, Reasoning, TextPart
from switchyard.core.request import Request

CHARS_PER_TOKEN = 4
PER_ITEM = 3
PER_ATTACHMENT = 85  # an image or file part, whatever its bytes
DEFAULT_MAX_OUTPUT = 1024  # reserved when the client sets no output limit; settled to the real count


def _chars(item: object) -> int:
    match item:
        case Message(content=parts) | FunctionCallOutput(output=parts):
            return sum(len(p.text) if isinstance(p, TextPart) else PER_ATTACHMENT * CHARS_PER_TOKEN
                       for p in parts)
        case FunctionCall(name=name, arguments=arguments):
            return len(name) + len(arguments)
        case Reasoning(text=text):
            return len(text)
    return 0


def prompt_tokens(request: Request) -> int:
    chars = sum(_chars(item) for item in request.items)
    chars += sum(len(t.name) + len(t.description or "") + len(str(t.parameters)) for t in request.tools)
    return chars // CHARS_PER_TOKEN + PER_ITEM * len(request.items)


def reserved_tokens(request: Request) -> int:
    output = request.max_output_tokens if request.max_output_tokens is not None else DEFAULT_MAX_OUTPUT
    return prompt_tokens(request) + output * max(1, request.n)
