"""Images a run's code drew, kept as Files: an Assistants step and message name an image by
its File id (``image_file``), while the code interpreter hands images over inline (a
``data:`` URL). Each becomes a ``file-…`` of the run's owner (purpose
``assistants_output``) before the run's encoder sees the call."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import AsyncIterator

from switchyard.core.tool_items import CodeImage, CodeInterpreterCall, CodeOutput
from switchyard.store.blobs import BlobStore
from switchyard.store.files import FileRepository

MAX_IMAGE_BYTES = 32 * 1024**2
PURPOSE = "assistants_output"


class ImageFiles:
    def __init__(self, files: FileRepository, blobs: BlobStore) -> None:
        self.files = files
        self.blobs = blobs

    async def keep(self, owner_id: str, call: CodeInterpreterCall) -> CodeInterpreterCall:
        """``call`` with each inline image replaced by the File now holding it."""
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

        async def one() -> AsyncIterator[bytes]:
            yield data

        blob = await self.blobs.write_stream(one(), MAX_IMAGE_BYTES, param="image")
        extension = media_type.rsplit("/", 1)[-1]
        record = await self.files.create(owner_id, filename=f"{name}.{extension}", purpose=PURPOSE, blob=blob,
                                         mime_type=media_type)
        return record.id
