"""A transcription or translation form read as a stream: the ``file`` part goes to a blob
store of its own (``store.blobs.audio_upload_store``, apart from the Files API's) in chunks,
with the audio size limit enforced as it arrives (413 past it, nothing left behind); the
other fields are gathered as text. The caller deletes the stored audio when the request is
done (``AudioForm.discard``); a process that dies first leaves it for the sweep at start-up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from starlette.requests import Request

from switchyard.codecs.openai_audio.transcription_in import allowed_fields
from switchyard.core.audio import AudioFile, Task
from switchyard.core.errors import invalid
from switchyard.store.blobs import BlobStore, StoredBlob, too_large
from switchyard.surfaces.multipart import form_parts, read_field
from switchyard.surfaces.openai.files import FORM_OVERHEAD, clean_filename


@dataclass(slots=True)
class AudioForm:
    blobs: BlobStore
    fields: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    stored: StoredBlob | None = None
    file: AudioFile | None = None

    async def discard(self) -> None:
        stored, self.stored = self.stored, None
        if stored is not None:
            await self.blobs.delete(stored.key)


async def read_audio_form(request: Request, blobs: BlobStore, limit: int, task: Task) -> AudioForm:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large("file", limit)
    form = AudioForm(blobs)
    known = allowed_fields(task)
    try:
        async for part, body in form_parts(request):
            if part.name == "file":
                if form.stored is not None:
                    raise invalid("Send one 'file' per request.", "file")
                filename = clean_filename(part.filename or "audio", "file")
                form.stored = await blobs.write_stream(body, limit, param="file")
                form.file = AudioFile(blobs.path(form.stored.key), filename, part.content_type, form.stored.size)
            elif part.name in known:
                form.fields[part.name].append(await read_field(part, body))
            else:
                raise invalid(f"Unrecognized request argument supplied: {part.name}", part.name, "unknown_parameter")
    except BaseException:
        await form.discard()
        raise
    return form
