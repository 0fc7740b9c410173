"""Any OpenAI-compatible Images upstream: ``/images/generations`` (JSON), ``/images/edits``
and ``/images/variations`` (multipart, files streamed from disk), whole answers or the
SSE stream of partial images. Images the upstream answers by URL are fetched from it
(with a size limit), so that the client only ever sees URLs served here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import orjson

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.providers.http_upstream import OPENAI_BASE_URL, UpstreamClient, make_client
from switchyard.providers.sse import SSEParser
from switchyard.providers.upstream_errors import from_exception, from_status

MAX_FETCHED_IMAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of the client's form, already on disk."""

    field: str  # "image", "image[]" or "mask"
    path: Path
    filename: str
    content_type: str


def malformed(why: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.UPSTREAM, f"Upstream sent a malformed image answer: {why}", code="upstream_error")


def _close(handles: list[BinaryIO]) -> None:
    for handle in handles:
        handle.close()


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class OpenAIImages:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self._client: UpstreamClient = make_client(config)
        self._base = (config.base_url or OPENAI_BASE_URL).rstrip("/")
        self._headers = dict(config.headers)
        if config.api_key:
            self._headers["authorization"] = f"Bearer {config.api_key}"

    def _request(self, operation: str, fields: dict[str, Any], files: list[UploadedFile],
                 stream: bool, opened: list[BinaryIO]) -> tuple[str, dict[str, Any]]:
        """The URL and aiohttp keyword arguments of one upstream request; files it opens
        go to ``opened``, for the caller to close."""
        url = f"{self._base}/images/{operation}"
        headers = {**self._headers, **({"accept": "text/event-stream"} if stream else {})}
        body = {"model": self.config.upstream_model, **fields}
        if operation == "generations":
            return url, {"data": orjson.dumps(body), "headers": {**headers, "content-type": "application/json"}}
        form = aiohttp.FormData()
        for name, value in body.items():
            form.add_field(name, _form_value(value))
        for upload in files:
            handle = upload.path.open("rb")
            opened.append(handle)
            form.add_field(upload.field, handle, filename=upload.filename, content_type=upload.content_type)
        return url, {"data": form, "headers": headers}

    async def create(self, operation: str, fields: dict[str, Any], files: list[UploadedFile]) -> dict[str, Any]:
        opened: list[BinaryIO] = []
        try:
            url, options = self._request(operation, fields, files, False, opened)
            async with self._client.session().post(url, **options) as response:
                status, raw = response.status, await response.read()
        except Exception as exc:
            raise from_exception(exc) from exc
        finally:
            _close(opened)
        if status >= 400:
            raise from_status(status, raw, response.headers)
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise malformed("not JSON") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise malformed("no 'data' array")
        return answer

    async def stream(self, operation: str, fields: dict[str, Any],
                     files: list[UploadedFile]) -> AsyncIterator[dict[str, Any]]:
        """The upstream's stream events as JSON objects. Errors before the first event are
        raised; a broken stream after it raises too (the surface ends the stream with an error)."""
        opened: list[BinaryIO] = []
        try:
            url, options = self._request(operation, fields, files, True, opened)
            response = await self._client.session().post(url, **options)
        except Exception as exc:
            raise from_exception(exc) from exc
        finally:
            _close(opened)
        try:
            if response.status >= 400:
                raise from_status(response.status, await response.read(), response.headers)
            parser = SSEParser()
            async for chunk in response.content.iter_any():
                for sse in parser.feed(chunk):
                    if sse.data.strip() == b"[DONE]":
                        return
                    try:
                        event = orjson.loads(sse.data)
                    except orjson.JSONDecodeError as exc:
                        raise malformed("a stream event is not JSON") from exc
                    if not isinstance(event, dict):
                        raise malformed("a stream event is not an object")
                    yield event
        except SwitchyardError:
            raise
        except Exception as exc:
            raise from_exception(exc) from exc
        finally:
            response.close()

    async def fetch(self, url: str) -> bytes:
        """An image the upstream answered by URL (no credentials are sent with it)."""
        try:
            async with self._client.session().get(url) as response:
                if response.status >= 400:
                    raise from_status(response.status, await response.read(), response.headers)
                data = bytearray()
                async for chunk in response.content.iter_chunked(256 * 1024):
                    data += chunk
                    if len(data) > MAX_FETCHED_IMAGE_BYTES:
                        raise malformed(f"an image URL holds more than {MAX_FETCHED_IMAGE_BYTES} bytes")
                return bytes(data)
        except SwitchyardError:
            raise
        except Exception as exc:
            raise from_exception(exc) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
