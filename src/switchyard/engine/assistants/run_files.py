"""What a run's code made, kept as Files: an Assistants step and message name an image by
its File id (``image_file``) and a written file by its File id (``file_path``), while the
code interpreter hands images over inline (a ``data:`` URL) and files as container files.
Each becomes a ``file-…`` of the run's owner (purpose ``assistants_output``) before the
run's encoder sees the call."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from switchyard.core.errors import SwitchyardError
from switchyard.core.tool_items import CodeFile, CodeImage, CodeInterpreterCall, CodeOutput
from switchyard.store.blobs import BlobStore
from switchyard.store.files import FileRepository

log = logging.getLogger(__name__)
MAX_IMAGE_BYTES = 32 * 1024**2
MAX_FILE_BYTES = 512 * 1024**2
PURPOSE = "assistants_output"
ContainerContent = Callable[[str, str, str], Awaitable[tuple[Any, bytes, str]]]
"""``(owner_id, container_id, container file id)`` → ``(file, bytes, media type)``."""


class ImageFiles:
    def __init__(self, files: FileRepository, blobs: BlobStore, content: ContainerContent | None = None) -> None:
        self.files = files
        self.blobs = blobs
        self.content = content

    async def keep(self, owner_id: str, call: CodeInterpreterCall) -> CodeInterpreterCall:
        """``call`` with each inline image, and each file the code wrote, replaced by the
        File now holding it."""
        call = await self._keep_images(owner_id, call)
        if not call.files or self.content is None:
            return call
        kept = []
        for written in call.files:
            try:
                _, data, media_type = await self.content(owner_id, written.container_id, written.file_id)
            except SwitchyardError as error:  # gone with its sandbox: the answer cannot link it
                log.info("a run's file %s could not be kept: %s", written.filename, error.message)
                continue
            file_id = await self._write(owner_id, data, written.filename, media_type, MAX_FILE_BYTES)
            kept.append(CodeFile(file_id, written.container_id, written.filename))
        return dataclasses.replace(call, files=kept)

    async def _keep_images(self, owner_id: str, call: CodeInterpreterCall) -> CodeInterpreterCall:
        if not call.outputs or not any(isinstance(o, CodeImage) and o.url.startswith("data:") for o in call.outputs):
            return call
        outputs: list[CodeOutput] = []
        for n, output in enumerate(call.outputs):
            if isinstance(output, CodeImage) and output.url.startswith("data:"):
                file_id = await self._store(owner_id, output.url, f"{call.id}_{n}")
                if file_id is None:
                    continue
                output = CodeImage(file_id)
            outputs.append(output)
        return dataclasses.replace(call, outputs=outputs)

    async def _store(self, owner_id: str, url: str, name: str) -> str | None:
        header, _, payload = url.partition(",")
        media_type = header.removeprefix("data:").split(";", 1)[0] or "image/png"
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return None

        extension = media_type.rsplit("/", 1)[-1]
        return await self._write(owner_id, data, f"{name}.{extension}", media_type, MAX_IMAGE_BYTES)

    async def _write(self, owner_id: str, data: bytes, filename: str, media_type: str, limit: int) -> str:
        async def one() -> AsyncIterator[bytes]:
            yield data

        blob = await self.blobs.write_stream(one(), limit + 1, param="file")
        media_type = media_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        record = await self.files.create(owner_id, filename=filename, purpose=PURPOSE, blob=blob,
                                         mime_type=media_type)
        return record.id
