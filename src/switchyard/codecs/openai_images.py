"""The Images API (``/v1/images/generations``, ``/edits``, ``/variations``): request
fields checked (a 400 naming the field) and kept for the upstream, and the
``ImagesResponse`` body rebuilt around images stored here.

Switchyard relays images, so it checks the fields whose values it depends on (``prompt``,
``model``, ``n``, ``response_format``, ``stream``, ``partial_images``,
``output_compression``) and the types of the rest, and passes every field on as given:
a new upstream parameter reaches the upstream without a release here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.codecs.openai_chat.fields import one_of, opt_bool, opt_int, opt_str, type_name
from switchyard.core.errors import invalid

Operation = Literal["generations", "edits", "variations"]
ResponseFormat = Literal["url", "b64_json"]
FORMATS = ("url", "b64_json")
MAX_N = 10
MAX_PROMPT_CHARS = 32_000  # gpt-image's limit; dall-e's are lower (the upstream says so)
STREAMING: frozenset[Operation] = frozenset({"generations", "edits"})
# event types an upstream may stream, per operation
STREAM_EVENTS: dict[Operation, tuple[str, ...]] = {
    "generations": ("image_generation.partial_image", "image_generation.completed"),
    "edits": ("image_edit.partial_image", "image_edit.completed"),
}


@dataclass(slots=True)
class ImageCall:
    operation: Operation
    model: str | None
    fields: dict[str, Any]  # every field for the upstream (files apart), ``model`` excluded
    response_format: ResponseFormat | None = None  # None: as the upstream model answers
    stream: bool = False
    files: list[Any] = field(default_factory=list)  # the surface's uploaded files (edits, variations)

    @property
    def prompt(self) -> str:
        return str(self.fields.get("prompt") or "")


def _scalar(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise invalid(f"Invalid type for '{name}': expected a string, number or boolean, but got "
                      f"{type_name(value)} instead.", name, "invalid_type")


def check_fields(operation: Operation, body: dict[str, Any]) -> ImageCall:
    """The checked call; ``body`` holds the JSON body or the form's text fields (already typed)."""
    for name, value in body.items():
        _scalar(name, value)
    model = opt_str(body, "model")
    if operation != "variations":
        prompt = opt_str(body, "prompt")
        if prompt is None:
            raise invalid("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        if not prompt.strip():
            raise invalid("Invalid 'prompt': the prompt must not be empty.", "prompt", "invalid_value")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise invalid(f"Invalid 'prompt': at most {MAX_PROMPT_CHARS} characters.", "prompt",
                          "string_above_max_length")
    elif "prompt" in body:
        raise invalid("Unrecognized request argument supplied: 'prompt' (variations take no prompt).", "prompt",
                      "unknown_parameter")
    opt_int(body, "n", lo=1, hi=MAX_N)
    opt_int(body, "partial_images", lo=0, hi=3)
    opt_int(body, "output_compression", lo=0, hi=100)
    for name in ("size", "quality", "background", "output_format", "moderation", "style", "user",
                 "input_fidelity", "safety_identifier"):
        opt_str(body, name)
    response_format = opt_str(body, "response_format")
    if response_format is not None:
        one_of(response_format, FORMATS, "response_format")
    stream = bool(opt_bool(body, "stream"))
    if stream and operation not in STREAMING:
        raise invalid("Invalid 'stream': image variations cannot be streamed.", "stream", "invalid_value")
    if stream and response_format == "url":
        raise invalid("Invalid 'response_format': streamed images come as b64_json only.", "response_format",
                      "invalid_value")
    fields = {k: v for k, v in body.items() if k != "model" and v is not None}
    return ImageCall(operation, model, fields, response_format,  # type: ignore[arg-type]
                     stream)


FORM_INTEGERS = ("n", "partial_images", "output_compression")
FORM_BOOLEANS = ("stream",)


def typed_form_field(name: str, value: str) -> Any:
    """A multipart text field as the JSON value it stands for (the SDKs send ``n=2``, ``stream=true``)."""
    if name in FORM_INTEGERS:
        try:
            return int(value)
        except ValueError:
            raise invalid(f"Invalid type for '{name}': expected an integer, but got '{value[:40]}'.", name,
                          "invalid_type") from None
    if name in FORM_BOOLEANS:
        if value.lower() not in ("true", "false"):
            raise invalid(f"Invalid type for '{name}': expected true or false, but got '{value[:40]}'.", name,
                          "invalid_type")
        return value.lower() == "true"
    return value


def image_entry(*, url: str | None = None, b64_json: str | None = None,
                revised_prompt: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": url} if url is not None else {"b64_json": b64_json}
    if revised_prompt is not None:
        entry["revised_prompt"] = revised_prompt
    return entry


KEPT = ("background", "output_format", "quality", "size", "usage")  # ImagesResponse fields relayed as they are


def encode_response(created: int, data: list[dict[str, Any]], upstream: dict[str, Any]) -> dict[str, Any]:
    """An ``ImagesResponse``: ``data`` built here, the descriptive fields as the upstream sent them."""
    body: dict[str, Any] = {"created": created, "data": data}
    body.update({k: upstream[k] for k in KEPT if upstream.get(k) is not None})
    return body
