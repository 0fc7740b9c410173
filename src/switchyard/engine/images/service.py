"""The Images API on configured image models (``task: image``): relayed to the upstream,
with images returned as the client asked: inline (``b64_json``) or as a link served here
(``url``: stored in the project's name, expiring; see ``links.py``)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_images import STREAM_EVENTS, ImageCall, encode_response, image_entry
from switchyard.config import ModelConfig
from switchyard.core.errors import invalid
from switchyard.core.usage import Usage
from switchyard.engine.images.links import ImageLinks
from switchyard.gateway.guardrail import screen_prompt
from switchyard.gateway.metered_media import metered
from switchyard.gateway.task_models import TaskModels
from switchyard.gateway.turn_watch import admit_call, note_usage, text_tokens
from switchyard.providers.image_backends import IMAGE_BACKENDS, ImageBackend
from switchyard.providers.openai_images import UploadedFile, malformed
from switchyard.store.blobs import BlobNotFound, BlobStore
from switchyard.store.images import ImageRecord, ImageRepository

MOST_TOKENS_PER_IMAGE = 6240  # gpt-image-1 at high quality, 1536x1024: the reservation's worst case
INPUT_IMAGE_TOKENS = 1600  # a generous estimate for each image sent to edits or variations
MIME_BY_FORMAT = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def sniff(data: bytes, output_format: Any) -> str:
    for magic, mime in SIGNATURES:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return MIME_BY_FORMAT.get(str(output_format), "application/octet-stream")


def _build(config: ModelConfig) -> ImageBackend:
    build = IMAGE_BACKENDS.get(config.provider)
    if build is None:
        raise invalid(f"The model '{config.name}' uses provider '{config.provider}', which has no Images API; "
                      f"image models are relayed to an upstream of provider {', '.join(IMAGE_BACKENDS)}.",
                      "model", "model_not_supported")
    return build(config)


def _usage(answer: dict[str, Any]) -> Usage | None:
    usage = answer.get("usage")
    if not isinstance(usage, dict):
        return None
    return Usage(input_tokens=int(usage.get("input_tokens") or 0), output_tokens=int(usage.get("output_tokens") or 0))


def _worst_case(call: ImageCall, files: list[UploadedFile]) -> tuple[int, int, int]:
    """Input and output tokens and images the call can use at most (what its budget
    reservation holds)."""
    count = call.fields.get("n")
    images = count if isinstance(count, int) and count > 0 else 1
    prompt = text_tokens([call.prompt]) if call.prompt else 1
    return prompt + INPUT_IMAGE_TOKENS * len(files), MOST_TOKENS_PER_IMAGE * images, images


@dataclass(frozen=True, slots=True)
class ImageContent:
    record: ImageRecord
    chunks: AsyncIterator[bytes]


class ImageService:
    def __init__(self, models: list[ModelConfig], repository: ImageRepository, blobs: BlobStore,
                 links: ImageLinks, ttl_seconds: int) -> None:
        self._models: TaskModels[ImageBackend] = TaskModels(models, "image", "image generation", _build)
        self._repository = repository
        self._blobs = blobs
        self._links = links
        self._ttl = ttl_seconds

    def backend(self, call: ImageCall) -> tuple[ModelConfig, ImageBackend]:
        return self._models.backend(self.model_name(call.model))

    def model_name(self, asked: str | None) -> str:
        """``asked``, or the first configured image model (``dall-e-2``, OpenAI's default, when none is)."""
        configured = self._models.configured()
        return asked or (configured[0].name if configured else "dall-e-2")

    def check_model(self, asked: str | None) -> ModelConfig:
        """The image model that ``asked`` names (a 400/404 naming ``model`` when there is none)."""
        return self._models.config(self.model_name(asked))

    async def generate_inline(self, model: str | None, prompt: str, options: dict[str, Any],
                              owner_id: str) -> dict[str, Any]:
        """One image as ``{"b64_json", "revised_prompt"?}`` with the answer's settings, for
        the Responses ``image_generation`` tool."""
        call = ImageCall("generations", model, {"prompt": prompt, **options}, "b64_json")
        body = await self.create(call, [], owner_id, "")
        data = body.get("data") or []
        if not data:
            raise malformed("no image in the answer")
        return {**{k: body[k] for k in ("background", "output_format", "quality", "size") if k in body}, **data[0]}

    async def create(self, call: ImageCall, files: list[UploadedFile], owner_id: str, base_url: str) -> dict[str, Any]:
        config, backend = self.backend(call)
        prompt_tokens = text_tokens([call.prompt]) if call.prompt else 1
        await admit_call(config.name, prompt_tokens)
        await screen_prompt(call.prompt)
        # Not forwarded: GPT image models refuse it, and every answer is converted here anyway.
        fields = {k: v for k, v in call.fields.items() if k != "response_format"}
        async with metered("images", config, *_worst_case(call, files)) as set_usage:
            answer = await backend.create(call.operation, fields, files)
            usage = _usage(answer)
            set_usage(usage or Usage(), images=len(answer["data"]))
            if usage is not None:
                note_usage(usage)
        data = [await self._entry(item, i, call, backend, answer, owner_id, base_url)
                for i, item in enumerate(answer["data"])]
        created = answer.get("created")
        return encode_response(created if isinstance(created, int) else int(time.time()), data, answer)

    async def stream_inline(self, model: str | None, prompt: str, options: dict[str, Any],
                            partial_images: int) -> AsyncIterator[dict[str, Any]]:
        """The upstream's partial and completed image events for one generated image, for the
        Responses ``image_generation`` tool."""
        call = ImageCall("generations", model, {"prompt": prompt, **options, "stream": True,
                                                "partial_images": partial_images}, "b64_json", stream=True)
        async for event in self.stream(call, []):
            yield event

    async def _entry(self, item: Any, index: int, call: ImageCall, backend: ImageBackend, answer: dict[str, Any],
                     owner_id: str, base_url: str) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise malformed(f"data[{index}] is not an object")
        revised = item.get("revised_prompt") if isinstance(item.get("revised_prompt"), str) else None
        b64, url = item.get("b64_json"), item.get("url")
        if isinstance(b64, str) and call.response_format != "url":
            return image_entry(b64_json=b64, revised_prompt=revised)
        if isinstance(b64, str):
            try:
                data = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise malformed(f"data[{index}].b64_json is not base64") from exc
        elif isinstance(url, str):
            data = await backend.fetch(url)
        else:
            raise malformed(f"data[{index}] has neither b64_json nor url")
        if call.response_format == "b64_json":
            return image_entry(b64_json=base64.b64encode(data).decode("ascii"), revised_prompt=revised)
        return image_entry(url=await self._link(data, answer.get("output_format"), owner_id, base_url),
                           revised_prompt=revised)

    async def _link(self, data: bytes, output_format: Any, owner_id: str, base_url: str) -> str:
        async def one() -> AsyncIterator[bytes]:
            yield data

        blob = await self._blobs.write_stream(one(), len(data) + 1, param="image")
        record = await self._repository.create(owner_id, blob, sniff(data, output_format), self._ttl)
        return self._links.url(base_url, record.id, record.expires_at)

    async def stream(self, call: ImageCall, files: list[UploadedFile]) -> AsyncIterator[dict[str, Any]]:
        """The upstream's partial and completed image events, as they come."""
        config, backend = self.backend(call)
        await admit_call(config.name, text_tokens([call.prompt]))
        await screen_prompt(call.prompt)
        known = STREAM_EVENTS[call.operation]
        made, used = 0, Usage()
        async with metered("images", config, *_worst_case(call, files)) as set_usage:
            async for event in backend.stream(call.operation, call.fields, files):
                kind = event.get("type")
                if kind not in known and kind != "error":
                    raise malformed(f"unexpected stream event type {kind!r}")
                if kind == known[-1]:
                    made += 1
                    usage = _usage(event)
                    if usage is not None:
                        used = usage
                        note_usage(usage)
                    set_usage(used, images=made)
                yield event

    async def content(self, image_id: str, owner_id: str | None) -> ImageContent | None:
        """A live image's bytes; None when it is unknown, expired, or (``owner_id`` given)
        another project's."""
        record = await self._repository.get(image_id, owner_id)
        if record is None:
            return None
        try:
            return ImageContent(record, await self._blobs.open(record.blob_key))
        except BlobNotFound:
            return None

    def valid_link(self, image_id: str, expires: str, signature: str) -> bool:
        return self._links.valid(image_id, expires, signature)

    async def purge_expired(self) -> int:
        keys = await self._repository.purge_expired()
        await self._blobs.delete_many(keys)
        return len(keys)

    async def aclose(self) -> None:
        await self._models.aclose()
