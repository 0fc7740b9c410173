"""``provider: gemini`` image models on Google's Gemini API: Imagen models through
``{base_url}/models/{model}:predict``, Gemini image models through ``:generateContent``
(one request per image asked for), authenticated with ``x-goog-api-key``."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from switchyard.codecs import gemini_images as wire
from switchyard.codecs.vendor_image_fields import count, vendor_fields
from switchyard.config import ModelConfig
from switchyard.providers.vendor_images import VendorImages

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
MOST_IMAGES = 10


class GeminiImages(VendorImages):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config, GEMINI_BASE_URL)
        self._headers = {**config.headers, "content-type": "application/json"}
        if config.api_key:
            self._headers["x-goog-api-key"] = config.api_key
        self._imagen = wire.is_imagen(config.upstream_model)

    def _url(self, method: str) -> str:
        model = self.config.upstream_model
        return f"{self._base}/{model if model.startswith('models/') else 'models/' + model}:{method}"

    async def _json(self, method: str, body: dict[str, Any]) -> Any:
        raw, _ = await self.post(self._url(method), self._headers, data=orjson.dumps(body))
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise wire.malformed("not JSON") from exc

    async def _generate(self, fields: dict[str, Any]) -> dict[str, Any]:
        name, drop = self.config.name, self.config.drop_params
        if self._imagen:
            kept = vendor_fields(fields, wire.IMAGEN_FIELDS, name, "gemini", drop)
            return wire.from_predict(await self._json("predict", wire.predict_body(kept, name)))
        kept = vendor_fields(fields, wire.GEMINI_FIELDS, name, "gemini", drop)
        body = wire.generate_content_body(kept, name)
        answers = await asyncio.gather(*(self._json("generateContent", body)
                                         for _ in range(count(kept, MOST_IMAGES, name))))
        return wire.from_generate_content(list(answers))
