"""``provider: stability`` image models on Stability AI's REST API:
``{base_url}/v2beta/stable-image/generate/{core|ultra|sd3}`` as multipart forms, one per
image asked for, bearer-authenticated. JSON answers are asked for (``accept:
application/json``) unless the model's ``headers`` ask for ``image/*``; both are read."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from switchyard.codecs import stability_images as wire
from switchyard.codecs.vendor_image_fields import count, vendor_fields
from switchyard.config import ModelConfig
from switchyard.providers.vendor_images import VendorImages

STABILITY_BASE_URL = "https://api.stability.ai"


class StabilityImages(VendorImages):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config, STABILITY_BASE_URL)
        self._headers = {"accept": "application/json", **{k.lower(): v for k, v in config.headers.items()}}
        if config.api_key:
            self._headers["authorization"] = f"Bearer {config.api_key}"
        where, _ = wire.endpoint(config.upstream_model)
        self._url = f"{self._base}/v2beta/stable-image/generate/{where}"

    def _error_body(self, raw: bytes) -> bytes:
        return wire.error_message(raw)

    async def _one(self, form_fields: list[tuple[str, str]]) -> str:
        form = aiohttp.FormData(default_to_multipart=True)
        for name, value in form_fields:
            form.add_field(name, value)
        raw, headers = await self.post(self._url, self._headers, data=form)
        if headers.get("content-type", "").startswith("image/"):
            return wire.image_from_bytes(raw, headers)
        try:
            return wire.image_from_json(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            raise wire.malformed("neither an image nor JSON") from exc

    async def _generate(self, fields: dict[str, Any]) -> dict[str, Any]:
        name = self.config.name
        kept = vendor_fields(fields, wire.FIELDS, name, "stability", self.config.drop_params)
        form_fields = wire.form_fields(kept, self.config.upstream_model, name)
        images = await asyncio.gather(*(self._one(form_fields) for _ in range(count(kept, wire.MOST, name))))
        return wire.answer(list(images), kept.get("output_format"))
