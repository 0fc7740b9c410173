"""Image generation in Google's Gemini API (``generativelanguage.googleapis.com``) wire
formats, from and to the Images API: Imagen models' ``models/{model}:predict``
(``instances[].prompt``, ``parameters.sampleCount``/``aspectRatio``/``outputOptions``;
answered as ``predictions[].bytesBase64Encoded``) and Gemini image models'
``models/{model}:generateContent`` (``responseModalities: ["IMAGE"]``; answered as
``candidates[].content.parts[].inlineData``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from switchyard.codecs.vendor_image_fields import (
    FORMATS_BY_MIME,
    MIME_TYPES,
    aspect_ratio,
    count,
    output_format,
)
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid

IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
GEMINI_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
IMAGEN_FIELDS = ("output_format", "output_compression", "aspect_ratio", "person_generation", "image_size")
GEMINI_FIELDS = ("output_format", "aspect_ratio")
IMAGEN_MOST = 4  # sampleCount's range is 1-4
PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")


def is_imagen(upstream_model: str) -> bool:
    """Imagen models answer ``:predict``; the others (``gemini-*-image``) ``:generateContent``."""
    return upstream_model.rsplit("/", 1)[-1].startswith("imagen")


def malformed(why: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"Upstream sent a malformed image answer: {why}", code="upstream_error")


def refused(reason: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.INVALID_REQUEST, f"The upstream's safety filter refused to make the image: "
                           f"{reason}.", param="prompt", code="content_policy_violation")


def _ratio(fields: Mapping[str, Any], supported: tuple[str, ...]) -> str | None:
    given = fields.get("aspect_ratio")
    if given is None:
        return aspect_ratio(fields.get("size"), supported)
    if given not in supported:
        raise invalid(f"'aspect_ratio' must be one of {', '.join(supported)}; got {given!r}.", "aspect_ratio",
                      "invalid_value")
    return str(given)


def predict_body(fields: Mapping[str, Any], model: str) -> dict[str, Any]:
    parameters: dict[str, Any] = {"sampleCount": count(fields, IMAGEN_MOST, model), "includeRaiReason": True}
    ratio = _ratio(fields, IMAGEN_RATIOS)
    if ratio is not None:
        parameters["aspectRatio"] = ratio
    fmt = output_format(fields, ("png", "jpeg"), model)
    if fmt is not None:
        parameters["outputOptions"] = {"mimeType": MIME_TYPES[fmt]}
        quality = fields.get("output_compression")
        if fmt == "jpeg" and isinstance(quality, int):
            parameters["outputOptions"]["compressionQuality"] = quality
    person = fields.get("person_generation")
    if person is not None:
        if person not in PERSON_GENERATION:
            raise invalid(f"'person_generation' must be one of {', '.join(PERSON_GENERATION)}; got {person!r}.",
                          "person_generation", "invalid_value")
        parameters["personGeneration"] = person
    if fields.get("image_size") is not None:
        parameters["imageSize"] = fields["image_size"]
    return {"instances": [{"prompt": str(fields.get("prompt") or "")}], "parameters": parameters}


def _image(b64: object, mime: object, where: str) -> dict[str, Any]:
    if not isinstance(b64, str) or not b64:
        raise malformed(f"{where} has no image data")
    return {"b64_json": b64, "mime": mime if isinstance(mime, str) else "image/png"}


def _answer(images: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAI-shaped answer (the Images service builds the client's from it)."""
    answer: dict[str, Any] = {"created": int(time.time()),
                              "data": [{"b64_json": image["b64_json"]} for image in images]}
    fmt = FORMATS_BY_MIME.get(images[0]["mime"]) if images else None
    if fmt is not None:
        answer["output_format"] = fmt
    if usage is not None:
        answer["usage"] = usage
    return answer


def from_predict(body: object) -> dict[str, Any]:
    """``{"predictions": [...]}``: the images, or a refusal when the filter took them all."""
    if not isinstance(body, dict):
        raise malformed("not a JSON object")
    predictions = body.get("predictions", [])
    if not isinstance(predictions, list):
        raise malformed("'predictions' is not an array")
    images, reasons = [], []
    for index, item in enumerate(predictions):
        if not isinstance(item, dict):
            raise malformed(f"predictions[{index}] is not an object")
        if isinstance(item.get("raiFilteredReason"), str) and not item.get("bytesBase64Encoded"):
            reasons.append(item["raiFilteredReason"])
            continue
        images.append(_image(item.get("bytesBase64Encoded"), item.get("mimeType"), f"predictions[{index}]"))
    if not images:
        raise refused("; ".join(reasons) or "no image was returned")
    return _answer(images)


def generate_content_body(fields: Mapping[str, Any], model: str) -> dict[str, Any]:
    output_format(fields, ("png",), model)
    config: dict[str, Any] = {"responseModalities": ["IMAGE"]}
    ratio = _ratio(fields, GEMINI_RATIOS)
    if ratio is not None:
        config["imageConfig"] = {"aspectRatio": ratio}
    return {"contents": [{"role": "user", "parts": [{"text": str(fields.get("prompt") or "")}]}],
            "generationConfig": config}


def _tokens(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def from_generate_content(bodies: list[object]) -> dict[str, Any]:
    """One ``generateContent`` answer per image asked for, as one answer."""
    images: list[dict[str, Any]] = []
    prompt_tokens = output_tokens = 0
    for body in bodies:
        if not isinstance(body, dict):
            raise malformed("not a JSON object")
        feedback = body.get("promptFeedback")
        if isinstance(feedback, dict) and isinstance(feedback.get("blockReason"), str):
            raise refused(f"the prompt was blocked ({feedback['blockReason']})")
        candidates = body.get("candidates")
        if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
            raise malformed("no candidates")
        content = candidates[0].get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        found = [p["inlineData"] for p in parts or [] if isinstance(p, dict) and isinstance(p.get("inlineData"), dict)]
        if not found:
            raise refused(f"no image was returned (finishReason {candidates[0].get('finishReason')})")
        images += [_image(data.get("data"), data.get("mimeType"), "inlineData") for data in found]
        usage = body.get("usageMetadata")
        if isinstance(usage, dict):
            prompt_tokens += _tokens(usage.get("promptTokenCount"))
            output_tokens += _tokens(usage.get("candidatesTokenCount"))
    usage_body = {"input_tokens": prompt_tokens, "output_tokens": output_tokens,
                  "total_tokens": prompt_tokens + output_tokens,
                  "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0}}
    return _answer(images, usage_body)
