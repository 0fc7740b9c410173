"""The Moderations API (``POST /v1/moderations``): the request as canonical inputs, and
the ``CreateModerationResponse`` body.

``input`` is a string (one result), an array of strings (one result each), or an array
of multimodal parts (``text`` and ``image_url``), which is one input with one result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_chat.fields import arr, join, obj, opt_str, req_str, wrong_type
from switchyard.core.errors import invalid
from switchyard.core.moderation import CATEGORIES, ModerationInput, Verdict

DEFAULT_MODEL = "omni-moderation-latest"
MAX_INPUTS = 2048
MAX_IMAGES = 1  # OpenAI's omni-moderation takes at most one image per request


@dataclass(frozen=True, slots=True)
class ModerationCall:
    model: str | None  # None: not given (OpenAI's default is ``DEFAULT_MODEL``)
    inputs: list[ModerationInput]
    wire_input: Any  # as sent, for an upstream that speaks this API


def _part(value: object, path: str) -> ModerationInput:
    part = obj(value, path)
    kind = req_str(part, "type", path)
    if kind == "text":
        return ModerationInput(texts=(req_str(part, "text", path),))
    if kind == "image_url":
        image = obj(part.get("image_url"), join(path, "image_url"))
        url = req_str(image, "url", join(path, "image_url"))
        if not url.startswith(("http://", "https://", "data:image/")):
            raise invalid(f"Invalid '{path}.image_url.url': expected an http(s) URL or a data:image/ URL.",
                          f"{path}.image_url.url", "invalid_value")
        return ModerationInput(images=(url,), image_paths=(join(path, "image_url"),))
    raise invalid(f"Invalid value for '{path}.type': '{kind}'. Supported values are: 'text', 'image_url'.",
                  join(path, "type"), "invalid_value")


def _multimodal(parts: list[Any]) -> ModerationInput:
    pieces = [_part(p, join("input", i)) for i, p in enumerate(parts)]
    images = [url for piece in pieces for url in piece.images]
    if len(images) > MAX_IMAGES:
        raise invalid(f"Invalid 'input': at most {MAX_IMAGES} image per request, got {len(images)}.", "input",
                      "array_above_max_length")
    return ModerationInput(
        texts=tuple(t for piece in pieces for t in piece.texts), images=tuple(images),
        image_paths=tuple(p for piece in pieces for p in piece.image_paths),
    )


def decode_input(value: object) -> list[ModerationInput]:
    if isinstance(value, str):
        return [ModerationInput(texts=(value,))]
    items = arr(value, "input") if value is not None else None
    if items is None:
        raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if not items:
        raise invalid("Invalid 'input': the input must not be empty.", "input", "invalid_value")
    if len(items) > MAX_INPUTS:
        raise invalid(f"Invalid 'input': at most {MAX_INPUTS} inputs per request, got {len(items)}.", "input",
                      "array_above_max_length")
    if all(isinstance(item, dict) for item in items):
        return [_multimodal(items)]
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise wrong_type(join("input", index), "a string (inputs are all strings or all objects)", item)
    return [ModerationInput(texts=(item,)) for item in items]


def decode_request(body: object) -> ModerationCall:
    body = obj(body, "body")
    for name in body:
        if name not in ("input", "model"):
            raise invalid(f"Unrecognized request argument supplied: '{name}'.", name, "unknown_parameter")
    model = opt_str(body, "model")
    inputs = decode_input(body.get("input"))
    return ModerationCall(model=model, inputs=inputs, wire_input=body["input"])


def encode_result(verdict: Verdict) -> dict[str, Any]:
    return {
        "flagged": verdict.flagged,
        "categories": {name: bool(verdict.categories.get(name, False)) for name in CATEGORIES},
        "category_scores": {name: float(verdict.scores.get(name, 0.0)) for name in CATEGORIES},
        "category_applied_input_types": {name: list(verdict.applied.get(name, ())) for name in CATEGORIES},
    }


def encode_response(response_id: str, model: str, verdicts: list[Verdict]) -> dict[str, Any]:
    """A ``CreateModerationResponse``."""
    return {"id": response_id, "model": model, "results": [encode_result(v) for v in verdicts]}


def decode_result(value: object, path: str) -> Verdict:
    """One result of an upstream's ``CreateModerationResponse`` (missing categories read as
    not flagged, score 0, applied to nothing)."""
    result = obj(value, path)
    categories = obj(result.get("categories") or {}, join(path, "categories"))
    scores = obj(result.get("category_scores") or {}, join(path, "category_scores"))
    applied = obj(result.get("category_applied_input_types") or {}, join(path, "category_applied_input_types"))
    return Verdict(
        categories={name: categories.get(name) is True for name in CATEGORIES},
        scores={name: _score(scores.get(name)) for name in CATEGORIES},
        applied={name: _types(applied.get(name)) for name in CATEGORIES},
    )


def _score(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _types(value: object) -> tuple[Any, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(t for t in value if t in ("text", "image"))
