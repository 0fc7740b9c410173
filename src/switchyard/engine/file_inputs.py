"""Input parts that name a stored file (``file_id`` in a Chat ``file`` part, a Responses
``input_file`` or ``input_image``) resolve to the caller's file: its bytes go to the
backend inline, never the id (which means nothing upstream). Another owner's id, or one
that does not exist, is a 404 naming the field."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.items import FilePart, FunctionCallOutput, ImagePart, Item, Message, Part
from switchyard.store.blobs import BlobNotFound, BlobStore
from switchyard.store.files import FileRecord, FileRepository

_RESPONSES_KINDS = ("input_file", "input_image")


def _not_found(file_id: str, param: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {file_id}", param=param)


def chat_references(messages: object) -> Iterator[tuple[str, str]]:
    """``(file_id, path)`` of every Chat ``file`` part that names a stored file."""
    for i, message in enumerate(messages if isinstance(messages, list) else []):
        content = message.get("content") if isinstance(message, dict) else None
        for j, part in enumerate(content if isinstance(content, list) else []):
            file = part.get("file") if isinstance(part, dict) and part.get("type") == "file" else None
            if isinstance(file, dict) and isinstance(file.get("file_id"), str) and file.get("file_data") is None:
                yield file["file_id"], f"messages[{i}].content[{j}].file.file_id"


def responses_references(items: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """``(file_id, path)`` of every Responses input part that names a stored file."""
    for i, item in enumerate(items):
        for key in ("content", "output"):
            parts = item.get(key)
            for j, part in enumerate(parts if isinstance(parts, list) else []):
                if (isinstance(part, dict) and part.get("type") in _RESPONSES_KINDS
                        and isinstance(part.get("file_id"), str) and not part.get("file_data")
                        and not part.get("image_url")):
                    yield part["file_id"], f"input[{i}].{key}[{j}].file_id"


class FileInputs:
    def __init__(self, files: FileRepository, blobs: BlobStore, max_bytes: int) -> None:
        self._files = files
        self._blobs = blobs
        self._max_bytes = max_bytes

    async def check(self, references: Iterator[tuple[str, str]], owner_id: str) -> None:
        """Every referenced file exists, belongs to ``owner_id`` and is small enough."""
        for file_id, path in references:
            await self._record(file_id, owner_id, path)

    async def _record(self, file_id: str, owner_id: str, param: str) -> FileRecord:
        record = await self._files.get(file_id, owner_id)
        if record is None:
            raise _not_found(file_id, param)
        if record.bytes > self._max_bytes:
            raise invalid(f"File {file_id} is {record.bytes} bytes; files sent to a model are at most "
                          f"{self._max_bytes} bytes.", param)
        return record

    async def resolve(self, items: list[Item], owner_id: str) -> None:
        """Parts with a ``file_id`` and no content get the file's content, in place."""
        for item in items:
            parts: list[Part] | None = (item.content if isinstance(item, Message)
                                        else item.output if isinstance(item, FunctionCallOutput) else None)
            if parts is None:
                continue
            for j, part in enumerate(parts):
                if isinstance(part, FilePart) and part.file_id and part.data is None and part.url is None:
                    parts[j] = await self._inline(part, owner_id)

    async def _inline(self, part: FilePart, owner_id: str) -> Part:
        assert part.file_id is not None
        param = f"{part.path}.file_id" if part.path else "file_id"
        record = await self._record(part.file_id, owner_id, param)
        try:
            chunks = await self._blobs.open(record.blob_key)
        except BlobNotFound as exc:
            raise _not_found(part.file_id, param) from exc
        data = base64.b64encode(b"".join([chunk async for chunk in chunks])).decode()
        if record.mime_type.startswith("image/"):
            return ImagePart(data=data, media_type=record.mime_type, path=part.path)
        return FilePart(data=data, media_type=record.mime_type, filename=part.filename or record.filename,
                        path=part.path)
