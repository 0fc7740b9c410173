"""The ``image_generation`` tool inside the loop: the model asks for an image with a
prompt, the configured image model (``engine/images``) makes it, and the response
carries it as an ``image_generation_call`` item; the model is told that it was made."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.core.items import FunctionCall, FunctionCallOutput, TextPart
from switchyard.core.request import Tool

NAME = "image_generation"
SETTINGS = ("background", "output_format", "quality", "size")  # an image's settings, as the upstream reports them

TOOL = Tool(
    name=NAME,
    description="Generate an image and show it to the user. Describe the image in detail in 'prompt'.",
    parameters={"type": "object", "additionalProperties": False, "required": ["prompt"],
                "properties": {"prompt": {"type": "string", "description": "What the image shows, in detail."}}},
)


def prompt_of(call: FunctionCall) -> str:
    try:
        args: Any = orjson.loads(call.arguments or "{}")
    except orjson.JSONDecodeError:
        return call.arguments or ""
    prompt = args.get("prompt") if isinstance(args, dict) else None
    return prompt if isinstance(prompt, str) else ""


def model_output(call: FunctionCall, error: str | None) -> FunctionCallOutput:
    text = "The image was generated and shown to the user." if error is None else f"Image generation failed: {error}"
    return FunctionCallOutput(call.call_id, [TextPart(text)], is_error=error is not None)
