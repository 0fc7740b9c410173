"""Images sent to a model that cannot read them: refused before the run, naming the
Responses field that carries the image (the model sees its context as one list, whose
indices mean nothing to the client)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from switchyard.core.errors import unsupported


def image_paths(items: list[dict[str, Any]], field: str) -> Iterator[str]:
    """``field[i].content[j]`` (or ``.output[j]`` of a tool output) of every ``input_image``."""
    for i, item in enumerate(items):
        for key in ("content", "output"):
            parts = item.get(key)
            if not isinstance(parts, list):
                continue
            for j, part in enumerate(parts):
                if isinstance(part, dict) and part.get("type") == "input_image":
                    yield f"{field}[{i}].{key}[{j}]"


def refuse_images(model: str, call: Any, resolved_input: list[dict[str, Any]],
                  history: list[dict[str, Any]]) -> None:
    """Raise for the first image in the input (an ``item_reference`` counts as the item
    it names), else in the history behind ``previous_response_id`` or ``conversation``."""
    reason = f"model '{model}' cannot read images"
    path = next(image_paths(resolved_input, "input"), None)
    if path is not None:
        raise unsupported(path, reason)
    if next(image_paths(history, "history"), None) is not None:
        param = "previous_response_id" if call.previous_response_id else "conversation"
        raise unsupported(param, f"{reason}, and the context it names holds an image")
