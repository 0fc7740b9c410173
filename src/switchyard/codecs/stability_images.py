"""Image generation in Stability AI's REST v2beta wire format, from and to the Images API:
``POST /v2beta/stable-image/generate/{core|ultra|sd3}`` as a multipart form (``prompt``,
``aspect_ratio``, ``output_format``, ``negative_prompt``, ``seed``, ``style_preset``; SD3
also ``model``), one image per request, answered as the image's bytes (``accept: image/*``,
with ``finish-reason`` and ``seed`` headers) or as JSON (``{"image": base64,
"finish_reason", "seed"}``)."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import Any

import orjson

from switchyard.codecs.vendor_image_fields import aspect_ratio, output_format
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid

RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
FIELDS = ("output_format", "aspect_ratio", "negative_prompt", "seed", "style_preset")
MOST = 10  # images per Images API call, each its own upstream request
# upstream model name -> (endpoint under /v2beta/stable-image/generate/, the form's ``model`` field)
ENDPOINTS: dict[str, tuple[str, str | None]] = {
    "core": ("core", None), "stable-image-core": ("core", None),
    "ultra": ("ultra", None), "stable-image-ultra": ("ultra", None),
    "sd3": ("sd3", None),
}


def endpoint(upstream_model: str) -> tuple[str, str | None]:
    """The endpoint and the ``model`` field for an upstream model name (SD3 models go to
    ``sd3`` under their own name: ``sd3.5-large``...)."""
    if upstream_model in ENDPOINTS:
        return ENDPOINTS[upstream_model]
    if upstream_model.startswith("sd3"):
        return "sd3", upstream_model
    return upstream_model, None


def form_fields(fields: Mapping[str, Any], upstream_model: str, model: str) -> list[tuple[str, str]]:
    """The form of one request; ``model``: the public name, for errors."""
    _, sd3_model = endpoint(upstream_model)
    form = [("prompt", str(fields.get("prompt") or ""))]
    if sd3_model is not None:
        form.append(("model", sd3_model))
    given = fields.get("aspect_ratio")
    if given is not None and given not in RATIOS:
        raise invalid(f"'aspect_ratio' must be one of {', '.join(RATIOS)}; got {given!r}.", "aspect_ratio",
                      "invalid_value")
    ratio = given if given is not None else aspect_ratio(fields.get("size"), RATIOS)
    if ratio is not None:
        form.append(("aspect_ratio", str(ratio)))
    fmt = output_format(fields, ("png", "jpeg", "webp"), model)
    if fmt is not None:
        form.append(("output_format", fmt))
    for name in ("negative_prompt", "seed", "style_preset"):
        if fields.get(name) is not None:
            form.append((name, str(fields[name])))
    return form


def malformed(why: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"Upstream sent a malformed image answer: {why}", code="upstream_error")


def _filtered(reason: object) -> None:
    if reason == "CONTENT_FILTERED":
        raise SwitchyardError(ErrorKind.INVALID_REQUEST, "The upstream's content filter refused to make the image "
                              "(finish_reason CONTENT_FILTERED).", param="prompt", code="content_policy_violation")


def image_from_json(body: object) -> str:
    """``{"image": base64, "finish_reason", "seed"}``: the image, base64."""
    if not isinstance(body, dict) or not isinstance(body.get("image"), str) or not body["image"]:
        raise malformed("no 'image'")
    _filtered(body.get("finish_reason"))
    return str(body["image"])


def image_from_bytes(data: bytes, headers: Mapping[str, str]) -> str:
    if not data:
        raise malformed("an empty image")
    _filtered(headers.get("finish-reason"))
    return base64.b64encode(data).decode("ascii")


def error_message(body: bytes) -> bytes:
    """Stability's ``{"id", "name", "errors": [...]}`` error as an OpenAI-shaped error body,
    so that the message reaches the client."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if isinstance(parsed, dict) and isinstance(parsed.get("errors"), list):
        message = "; ".join(str(e) for e in parsed["errors"]) or str(parsed.get("name") or "error")
        return orjson.dumps({"error": {"message": message, "code": parsed.get("name")}})
    return body


def answer(images: list[str], fmt: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"created": int(time.time()), "data": [{"b64_json": image} for image in images],
                            "output_format": fmt or "png"}
    return body
