"""Loopback stand-ins for two image APIs that are not OpenAI-compatible, answering in their
documented wire formats and refusing what those APIs refuse:

- Google's Gemini API: ``POST /v1beta/models/{imagen model}:predict`` (``instances[].prompt``,
  ``parameters.sampleCount`` 1-4, ``aspectRatio``, ``outputOptions.mimeType``; answered with
  ``predictions[].bytesBase64Encoded`` and ``mimeType``, or ``raiFilteredReason`` for an
  image the safety filter took) and ``POST /v1beta/models/{gemini model}:generateContent``
  (``candidates[].content.parts[].inlineData`` and ``usageMetadata``, or
  ``promptFeedback.blockReason``), authenticated with ``x-goog-api-key``; errors as
  ``{"error": {"code", "message", "status"}}``.
- Stability AI: ``POST /v2beta/stable-image/generate/{core|ultra|sd3}``, multipart only,
  ``authorization: Bearer``; answered as the image's bytes (``accept: image/*``, with
  ``finish-reason`` and ``seed`` headers) or as JSON ``{"image", "finish_reason", "seed"}``
  (``accept: application/json``); errors as ``{"id", "name", "errors": [...]}``.

A prompt containing ``forbidden`` is refused by the vendor's safety filter. Every image is a
real PNG (or JPEG/WebP signature) of a colour that changes with each image made."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.loopback import Loopback
from tests.fakes.media_wire import png

IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
STABILITY_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SEED = 424242


@dataclass
class Heard:
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    content_type: str = ""


def image_bytes(number: int, fmt: str) -> bytes:
    """The ``number``-th image made: a PNG of its own colour (JPEG and WebP as their signatures)."""
    pixel = png(rgb=(number * 40 % 256, 255 - number * 40 % 256, 77))
    if fmt == "jpeg":
        return b"\xff\xd8\xff\xe0" + pixel
    if fmt == "webp":
        return b"RIFF\x00\x00\x00\x00WEBP" + pixel
    return pixel


class _Fake(Loopback):
    def __init__(self, name: str, key: str) -> None:
        super().__init__(name)
        self.key = key
        self.heard: list[Heard] = []
        self._numbers = itertools.count(1)
        self.made: list[bytes] = []  # every image answered, in order

    def reset(self) -> None:
        self.heard.clear()
        self.made.clear()

    def _make(self, fmt: str) -> bytes:
        data = image_bytes(next(self._numbers), fmt)
        self.made.append(data)
        return data


def _google_error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": kind}}, status_code=status)


class FakeGoogleImages(_Fake):
    def __init__(self, key: str = "goog-key") -> None:
        super().__init__("fake-gemini-images", key)

    async def _model(self, request: Request) -> Response:
        body = await request.body()
        heard = Heard(request.url.path, dict(request.headers), content_type=request.headers.get("content-type", ""))
        self.heard.append(heard)
        if request.headers.get("x-goog-api-key") != self.key:
            return _google_error(403, "Method doesn't allow unregistered callers. Please use API Key.",
                                 "PERMISSION_DENIED")
        try:
            heard.json = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _google_error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        target = request.path_params["target"]
        model, _, method = target.partition(":")
        if method == "predict" and model.startswith("imagen"):
            return self._predict(heard.json)
        if method == "generateContent" and "image" in model:
            return self._generate_content(heard.json)
        return _google_error(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                                  f"{method}.", "NOT_FOUND")

    def _predict(self, body: Any) -> Response:
        instances = body.get("instances") if isinstance(body, dict) else None
        if not isinstance(instances, list) or not instances or not isinstance(instances[0].get("prompt"), str):
            return _google_error(400, "Invalid value at 'instances[0].prompt'.", "INVALID_ARGUMENT")
        parameters = body.get("parameters") or {}
        count = parameters.get("sampleCount", 4)
        if not isinstance(count, int) or not 1 <= count <= 4:
            return _google_error(400, "Number of images must be in range [1, 4].", "INVALID_ARGUMENT")
        ratio = parameters.get("aspectRatio", "1:1")
        if ratio not in IMAGEN_RATIOS:
            return _google_error(400, f"Unsupported aspect ratio: {ratio}.", "INVALID_ARGUMENT")
        mime = (parameters.get("outputOptions") or {}).get("mimeType", "image/png")
        if mime not in ("image/png", "image/jpeg"):
            return _google_error(400, f"Unsupported mime type: {mime}.", "INVALID_ARGUMENT")
        if "forbidden" in instances[0]["prompt"]:
            if parameters.get("includeRaiReason"):
                return JSONResponse({"predictions": [{"raiFilteredReason": "The prompt could not be submitted: it "
                                                      "might violate our policies."}]})
            return JSONResponse({})
        fmt = "jpeg" if mime == "image/jpeg" else "png"
        return JSONResponse({"predictions": [
            {"mimeType": mime, "bytesBase64Encoded": base64.b64encode(self._make(fmt)).decode()}
            for _ in range(count)]})

    def _generate_content(self, body: Any) -> Response:
        contents = body.get("contents") if isinstance(body, dict) else None
        try:
            prompt = contents[-1]["parts"][0]["text"]  # type: ignore[index]
        except (TypeError, KeyError, IndexError):
            return _google_error(400, "* GenerateContentRequest.contents: contents is not specified",
                                 "INVALID_ARGUMENT")
        usage = {"promptTokenCount": 9, "candidatesTokenCount": 1290, "totalTokenCount": 1299,
                 "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}]}
        if "forbidden" in prompt:
            return JSONResponse({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": usage})
        data = base64.b64encode(self._make("png")).decode()
        return JSONResponse({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Here is your image."}, {"inlineData": {"mimeType": "image/png", "data": data}}]},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": "gemini-2.5-flash-image"})

    def start(self) -> None:
        self.serve(Starlette(routes=[Route("/v1beta/models/{target:path}", self._model, methods=["POST"])]))


def _stability_error(status: int, name: str, *errors: str) -> JSONResponse:
    return JSONResponse({"id": "a3b1c2d4e5f60718293a4b5c6d7e8f90", "name": name, "errors": list(errors)},
                        status_code=status)


class FakeStability(_Fake):
    def __init__(self, key: str = "sk-stability") -> None:
        super().__init__("fake-stability", key)

    async def _generate(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        heard = Heard(request.url.path, dict(request.headers), content_type=content_type)
        self.heard.append(heard)
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return _stability_error(401, "unauthorized", "authorization: invalid or missing header")
        if not content_type.startswith("multipart/form-data"):
            return _stability_error(400, "bad_request", "content-type: must be multipart/form-data")
        form = await request.form()
        heard.form = {name: value for name, value in form.multi_items() if isinstance(value, str)}
        accept = request.headers.get("accept", "")
        if accept not in ("image/*", "application/json"):
            return _stability_error(400, "bad_request", "accept: must be image/* or application/json")
        prompt = heard.form.get("prompt", "")
        if not prompt:
            return _stability_error(400, "bad_request", "prompt: cannot be empty")
        ratio = heard.form.get("aspect_ratio", "1:1")
        if ratio not in STABILITY_RATIOS:
            return _stability_error(400, "bad_request", f"aspect_ratio: must be one of {', '.join(STABILITY_RATIOS)}")
        fmt = heard.form.get("output_format", "png")
        if fmt not in ("png", "jpeg", "webp"):
            return _stability_error(400, "bad_request", "output_format: must be one of png, jpeg, webp")
        finish = "CONTENT_FILTERED" if "forbidden" in prompt else "SUCCESS"
        data = self._make(fmt)
        if accept == "image/*":
            return Response(data, media_type=f"image/{fmt}", headers={"finish-reason": finish, "seed": str(SEED)})
        return JSONResponse({"image": base64.b64encode(data).decode(), "finish_reason": finish, "seed": SEED})

    def start(self) -> None:
        self.serve(Starlette(routes=[
            Route("/v2beta/stable-image/generate/{endpoint}", self._generate, methods=["POST"])]))
