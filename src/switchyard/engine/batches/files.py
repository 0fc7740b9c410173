"""A batch's files: the input file read line by line, and the output and error files
written from its stored lines (streamed to the blob store, never whole in memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.store.batches import BatchRecord, BatchRepository, LineRecord
from switchyard.store.blobs import BlobNotFound, BlobStore
from switchyard.store.files import FileRecord, FileRepository
from switchyard.store.ids import new_id

OUTPUT_PURPOSE = "batch_output"
MAX_OUTPUT_BYTES = 8 * 1024**3


async def read_lines(files: FileRepository, blobs: BlobStore, file_id: str, owner_id: str) -> list[bytes]:
    """The input file's lines (without their line breaks; a trailing newline ends the last)."""
    record = await files.get(file_id, owner_id)
    if record is None:
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {file_id}", param="input_file_id")
    try:
        chunks = await blobs.open(record.blob_key)
    except BlobNotFound as missing:
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"The bytes of file {file_id} are gone.",
                              param="input_file_id") from missing
    data = b"".join([chunk async for chunk in chunks])
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.rstrip(b"\r") for line in lines]


Render = Callable[[LineRecord], dict[str, Any]]


async def _jsonl(lines: AsyncIterator[LineRecord], render: Render, wrote: list[int]) -> AsyncIterator[bytes]:
    async for line in lines:
        wrote[0] += 1
        yield orjson.dumps(render(line)) + b"\n"


async def write_file(batch: BatchRecord, repo: BatchRepository, files: FileRepository, blobs: BlobStore,
                     states: tuple[str, ...], kind: str, render: Render) -> FileRecord | None:
    """A ``batch_output`` file of the batch's lines in ``states``; None when there are none."""
    wrote = [0]
    blob = await blobs.write_stream(_jsonl(repo.lines(batch.id, states=states), render, wrote), MAX_OUTPUT_BYTES,
                                    param="output")
    if wrote[0] == 0:
        await blobs.delete(blob.key)
        return None
    return await files.create(batch.owner_id, filename=f"{batch.id}_{kind}.jsonl", purpose=OUTPUT_PURPOSE,
                              blob=blob, mime_type="application/jsonl",
                              expires_after=batch.request.get("output_expires_after"))


def request_id_of(line: LineRecord) -> str:
    """The ``batch_req_…`` id of a line's answer (lines never run get one when written)."""
    if line.result is not None and isinstance(line.result.get("id"), str):
        return str(line.result["id"])
    return new_id("batch_req_")
