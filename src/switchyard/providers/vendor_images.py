"""What the image backends of vendors that are not OpenAI-compatible share: the Images
API's operations they do not have refused with a 400 naming ``model``, and one JSON or
multipart POST answered as JSON (or bytes), its errors mapped like every upstream's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError, invalid
from switchyard.providers.http_upstream import UpstreamClient, make_client
from switchyard.providers.openai_images import UploadedFile
from switchyard.providers.upstream_errors import from_exception, from_status


def only_generations(config: ModelConfig, operation: str) -> None:
    if operation != "generations":
        raise invalid(f"The model '{config.name}' (provider '{config.provider}') only generates images; "
                      f"image {operation} need an OpenAI-compatible image model.", "model", "model_not_supported")


class VendorImages:
    """A base for one vendor's image backend: ``_generate`` makes the OpenAI-shaped answer."""

    def __init__(self, config: ModelConfig, base_url: str) -> None:
        self.config = config
        self._client: UpstreamClient = make_client(config)
        self._base = (config.base_url or base_url).rstrip("/")

    async def create(self, operation: str, fields: dict[str, Any], files: list[UploadedFile]) -> dict[str, Any]:
        only_generations(self.config, operation)
        return await self._generate(fields)

    async def _generate(self, fields: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def stream(self, operation: str, fields: dict[str, Any],
                     files: list[UploadedFile]) -> AsyncIterator[dict[str, Any]]:
        only_generations(self.config, operation)
        raise invalid(f"The model '{self.config.name}' (provider '{self.config.provider}') cannot stream images; "
                      "leave 'stream' unset.", "stream", "unsupported_parameter")
        yield {}  # pragma: no cover - makes this an async generator

    async def fetch(self, url: str) -> bytes:
        raise invalid("This upstream answers images inline, never by URL.", "model")

    async def post(self, url: str, headers: Mapping[str, str], **body: Any) -> tuple[bytes, Mapping[str, str]]:
        """The answer's bytes and headers; an error status raised as the upstream's error
        (its body passed through ``self._error_body`` first)."""
        try:
            async with self._client.session().post(url, headers=dict(headers), **body) as response:
                status, raw, answered = response.status, await response.read(), response.headers
        except SwitchyardError:
            raise
        except Exception as exc:
            raise from_exception(exc) from exc
        if status >= 400:
            raise from_status(status, self._error_body(raw), answered)
        return raw, answered

    def _error_body(self, raw: bytes) -> bytes:
        return raw

    async def aclose(self) -> None:
        await self._client.aclose()
