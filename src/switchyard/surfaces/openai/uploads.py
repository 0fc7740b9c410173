"""The Uploads API: /v1/uploads, for files too large for one request.

An upload declares its size, takes parts (each at most 64 MB, streamed to disk
like files), and on ``complete`` joins the parts the client lists, in its order,
into a new file. An upload lives for an hour. Parts beyond the declared size are
refused as they arrive, so an upload never holds more than it declared."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.store.blobs import BlobNotFound, StoredBlob, too_large
from switchyard.store.files import FileRecord, UploadRecord, UploadStateError
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.multipart import form_parts
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.files import (
    blob_store,
    check_purpose,
    clean_filename,
    expiry_seconds,
    file_body,
    media_type,
    repository,
)

MAX_PART_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_UPLOAD_TOTAL_BYTES = 8 * 1024 * 1024 * 1024  # OpenAI's limit for one Upload
FORM_OVERHEAD = 64 * 1024


def max_total_bytes(services: Services) -> int:
    return int(getattr(services.settings, "max_upload_total_bytes", DEFAULT_MAX_UPLOAD_TOTAL_BYTES))


def upload_body(upload: UploadRecord, file: FileRecord | None = None) -> dict[str, Any]:
    """``openai.types.Upload``."""
    return {
        "id": upload.id, "object": "upload", "bytes": upload.bytes, "created_at": upload.created_at,
        "filename": upload.filename, "purpose": upload.purpose, "status": upload.status,
        "expires_at": upload.expires_at, "file": None if file is None else file_body(file),
    }


def _not_found(upload_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No such Upload object: {upload_id}", param="upload_id")


def _state_error(error: UploadStateError) -> SwitchyardError:
    return invalid(str(error), "upload_id")


async def _pending_upload(services: Services, upload_id: str, owner_id: str) -> UploadRecord:
    upload = await repository(services).get_upload(upload_id, owner_id)
    if upload is None:
        raise _not_found(upload_id)
    if upload.status != "pending":
        raise invalid(f"Upload {upload_id} is {upload.status}, not pending.", "upload_id")
    return upload


def _integer(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid(f"'{name}' must be a non-negative integer.", name)
    return value


@endpoint(render_error)
async def create_upload(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    if not isinstance(body.get("filename"), str):
        raise invalid("'filename' is required and must be a string.", "filename")
    filename = clean_filename(body["filename"], "filename")
    purpose = check_purpose(body.get("purpose"))
    size = _integer(body, "bytes")
    if size > max_total_bytes(services):
        raise too_large("bytes", max_total_bytes(services))
    mime = body.get("mime_type")
    if not isinstance(mime, str) or not mime.strip():
        raise invalid("'mime_type' is required and must be a string.", "mime_type")
    expires = body.get("expires_after")
    if expires is not None and not isinstance(expires, dict):
        raise invalid("'expires_after' must be an object with 'anchor' and 'seconds'.", "expires_after")
    expires = expires or {}
    seconds = expiry_seconds(expires.get("anchor"), expires.get("seconds"), purpose)
    upload = await repository(services).create_upload(
        principal.owner_id, filename=filename, purpose=purpose, bytes=size,
        mime_type=media_type(mime, filename), file_expires_after=seconds,
    )
    return JSONResponse(upload_body(upload))


@endpoint(render_error)
async def add_part(request: Request, services: Services, principal: Principal) -> Response:
    upload_id = request.path_params["upload_id"]
    await _pending_upload(services, upload_id, principal.owner_id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PART_BYTES + FORM_OVERHEAD:
        raise too_large("data", MAX_PART_BYTES)
    blobs = blob_store(services)
    stored: StoredBlob | None = None
    try:
        async for part, chunks in form_parts(request):
            if part.name != "data":
                raise invalid(f"Unknown field '{part.name}'; expected 'data'.", part.name)
            if stored is not None:
                raise invalid("Send one 'data' per part.", "data")
            stored = await blobs.write_stream(chunks, MAX_PART_BYTES, param="data")
        if stored is None:
            raise invalid("'data' is required.", "data")
        try:
            record = await repository(services).add_part(upload_id, principal.owner_id, stored)
        except UploadStateError as exc:
            raise _state_error(exc) from exc
        if record is None:
            raise _not_found(upload_id)
    except BaseException:
        if stored is not None:
            await blobs.delete(stored.key)
        raise
    return JSONResponse({"id": record.id, "object": "upload.part", "created_at": record.created_at,
                         "upload_id": upload_id})


def _part_ids(body: dict[str, Any]) -> list[str]:
    part_ids = body.get("part_ids")
    if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
        raise invalid("'part_ids' must be an array of part ids.", "part_ids")
    seen: set[str] = set()
    for index, part_id in enumerate(part_ids):
        if part_id in seen:
            raise invalid(f"Part {part_id} is listed twice.", f"part_ids[{index}]")
        seen.add(part_id)
    return part_ids


@endpoint(render_error)
async def complete_upload(request: Request, services: Services, principal: Principal) -> Response:
    upload_id = request.path_params["upload_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    part_ids = _part_ids(body)
    md5 = body.get("md5")
    if md5 is not None and not isinstance(md5, str):
        raise invalid("'md5' must be a string.", "md5")
    repo = repository(services)
    upload = await _pending_upload(services, upload_id, principal.owner_id)
    parts = {part.id: part for part in await repo.parts(upload_id, principal.owner_id)}
    for index, part_id in enumerate(part_ids):
        if part_id not in parts:
            raise invalid(f"Upload {upload_id} has no part {part_id}.", f"part_ids[{index}]")
    total = sum(parts[p].bytes for p in part_ids)
    if total != upload.bytes:
        raise invalid(f"The parts hold {total} bytes, but the upload was created with bytes={upload.bytes}.",
                      "part_ids")
    blobs = blob_store(services)
    try:
        joined = await blobs.concat(parts[p].blob_key for p in part_ids)
    except BlobNotFound as exc:
        index = next(i for i, p in enumerate(part_ids) if parts[p].blob_key == exc.args[0])
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"The bytes of part {part_ids[index]} are missing from storage.",
                              param=f"part_ids[{index}]", code="part_content_missing") from exc
    try:
        if md5 and md5.strip().lower() != joined.md5:
            raise invalid(f"The md5 of the uploaded bytes is {joined.md5}, not {md5}.", "md5")
        try:
            done = await repo.complete(upload_id, principal.owner_id, joined, now=time.time())
        except UploadStateError as exc:
            raise _state_error(exc) from exc
        if done is None:
            raise _not_found(upload_id)
    except BaseException:
        await blobs.delete(joined.key)
        raise
    completed, file, leftover = done
    await blobs.delete_many(leftover)
    return JSONResponse(upload_body(completed, file))


@endpoint(render_error)
async def cancel_upload(request: Request, services: Services, principal: Principal) -> Response:
    upload_id = request.path_params["upload_id"]
    try:
        done = await repository(services).cancel(upload_id, principal.owner_id)
    except UploadStateError as exc:
        raise _state_error(exc) from exc
    if done is None:
        raise _not_found(upload_id)
    cancelled, leftover = done
    await blob_store(services).delete_many(leftover)
    return JSONResponse(upload_body(cancelled))


ROUTES: list[Route] = [
    Route("/v1/uploads", create_upload, methods=["POST"]),
    Route("/v1/uploads/{upload_id}/parts", add_part, methods=["POST"]),
    Route("/v1/uploads/{upload_id}/complete", complete_upload, methods=["POST"]),
    Route("/v1/uploads/{upload_id}/cancel", cancel_upload, methods=["POST"]),
]
