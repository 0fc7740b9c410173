"""The Files API: /v1/files.

Uploads are multipart/form-data parsed as a stream: the ``file`` part goes
straight to the blob store in chunks, with the size limit enforced while it
arrives (413 past it, the partial file deleted). Fields may come before or after
the file, so the fields are checked as they arrive and once more at the end; any
failure deletes the stored bytes. A client's file name is kept as a label only:
blobs are stored under random keys."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.store.blobs import BlobNotFound, BlobStore, StoredBlob, too_large
from switchyard.store.files import FileRecord, FileRepository
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse
from switchyard.surfaces.multipart import form_parts, read_field
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # OpenAI's per-file limit
FORM_OVERHEAD = 1024 * 1024  # room for the fields and part headers around the file
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MIN_EXPIRY, MAX_EXPIRY = 3600, 2_592_000
BATCH_DEFAULT_EXPIRY = 2_592_000  # OpenAI: batch files expire after 30 days unless told otherwise
MAX_FILENAME = 512
MAX_LIST = 10_000
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_FIELDS = ("purpose", "expires_after[anchor]", "expires_after[seconds]")


def max_upload_bytes(services: Services) -> int:
    return int(getattr(services.settings, "max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES))


def repository(services: Services) -> FileRepository:
    return FileRepository(services.database)


def blob_store(services: Services) -> BlobStore:
    return BlobStore(services.settings.resolved_files_dir)


def file_body(record: FileRecord) -> dict[str, Any]:
    """``openai.types.FileObject``; the optional fields are left out when unset (the
    spec types them as non-null)."""
    body: dict[str, Any] = {
        "id": record.id, "object": "file", "bytes": record.bytes, "created_at": record.created_at,
        "filename": record.filename, "purpose": record.purpose, "status": record.status,
    }
    if record.expires_at is not None:
        body["expires_at"] = record.expires_at
    if record.status_details is not None:
        body["status_details"] = record.status_details
    return body


def not_found(file_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {file_id}", param="file_id")


def check_purpose(value: Any, param: str = "purpose") -> str:
    if value not in PURPOSES:
        raise invalid(f"'{param}' must be one of {', '.join(PURPOSES)}; got {value!r}.", param)
    return str(value)


def expiry_seconds(anchor: Any, seconds: Any, purpose: str, param: str = "expires_after") -> int | None:
    """Seconds after creation at which the file expires; None to keep it."""
    if anchor is None and seconds is None:
        return BATCH_DEFAULT_EXPIRY if purpose == "batch" else None
    if anchor != "created_at":
        raise invalid(f"'{param}.anchor' must be 'created_at'.", f"{param}.anchor")
    if isinstance(seconds, str) and seconds.strip().lstrip("-").isdigit():
        seconds = int(seconds)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not MIN_EXPIRY <= seconds <= MAX_EXPIRY:
        raise invalid(f"'{param}.seconds' must be an integer between {MIN_EXPIRY} and {MAX_EXPIRY}.",
                      f"{param}.seconds")
    return seconds


def clean_filename(name: str | None, param: str) -> str:
    """The client's file name as a display label: control characters dropped."""
    cleaned = "".join(c for c in (name or "") if unicodedata.category(c)[0] != "C").strip()
    if not cleaned:
        raise invalid(f"'{param}' needs a file name.", param)
    if len(cleaned) > MAX_FILENAME:
        raise invalid(f"The file name in '{param}' is longer than {MAX_FILENAME} characters.", param)
    return cleaned


def media_type(declared: str | None, filename: str) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if _MIME.fullmatch(declared) and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large("file", limit)


@endpoint(render_error)
async def create_file(request: Request, services: Services, principal: Principal) -> Response:
    limit = max_upload_bytes(services)
    _check_declared_length(request, limit)
    blobs = blob_store(services)
    stored: StoredBlob | None = None
    filename, declared_type = "", None
    fields: dict[str, str] = {}
    try:
        async for part, body in form_parts(request):
            if part.name == "file":
                if stored is not None:
                    raise invalid("Send one 'file' per request.", "file")
                filename, declared_type = clean_filename(part.filename or "file", "file"), part.content_type
                stored = await blobs.write_stream(body, limit, param="file")
            elif part.name in _FIELDS:
                fields[part.name] = await read_field(part, body)
                if part.name == "purpose":
                    check_purpose(fields["purpose"])
            else:
                raise invalid(f"Unknown field '{part.name}'; expected file, purpose and expires_after.", part.name)
        if "purpose" not in fields:
            raise invalid("'purpose' is required.", "purpose")
        purpose = check_purpose(fields["purpose"])
        expires_after = expiry_seconds(fields.get("expires_after[anchor]"), fields.get("expires_after[seconds]"),
                                       purpose)
        if stored is None:
            raise invalid("'file' is required.", "file")
        record = await repository(services).create(
            principal.owner_id, filename=filename, purpose=purpose, blob=stored,
            mime_type=media_type(declared_type, filename), expires_after=expires_after,
        )
    except BaseException:
        if stored is not None:
            await blobs.delete(stored.key)
        raise
    return JSONResponse(file_body(record))


def _list_params(request: Request) -> tuple[str | None, int, str, str | None]:
    query = request.query_params
    raw_limit = query.get("limit", str(MAX_LIST))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIST:
        raise invalid(f"'limit' must be an integer between 1 and {MAX_LIST}.", "limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid("'order' must be 'asc' or 'desc'.", "order")
    return query.get("purpose") or None, int(raw_limit), order, query.get("after") or None


@endpoint(render_error)
async def list_files(request: Request, services: Services, principal: Principal) -> Response:
    purpose, limit, order, after = _list_params(request)
    records, has_more = await repository(services).list(
        principal.owner_id, purpose=purpose, limit=limit, order=order, after=after,  # type: ignore[arg-type]
    )
    return JSONResponse(list_body([file_body(r) for r in records], has_more))


@endpoint(render_error)
async def get_file(request: Request, services: Services, principal: Principal) -> Response:
    file_id = request.path_params["file_id"]
    record = await repository(services).get(file_id, principal.owner_id)
    if record is None:
        raise not_found(file_id)
    return JSONResponse(file_body(record))


@endpoint(render_error)
async def delete_file(request: Request, services: Services, principal: Principal) -> Response:
    file_id = request.path_params["file_id"]
    record = await repository(services).delete(file_id, principal.owner_id)
    if record is None:
        raise not_found(file_id)
    await blob_store(services).delete(record.blob_key)
    return JSONResponse({"id": file_id, "object": "file", "deleted": True})


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@endpoint(render_error)
async def get_file_content(request: Request, services: Services, principal: Principal) -> Response:
    file_id = request.path_params["file_id"]
    record = await repository(services).get(file_id, principal.owner_id)
    if record is None:
        raise not_found(file_id)
    try:
        chunks = await blob_store(services).open(record.blob_key)
    except BlobNotFound as exc:
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"The content of file {file_id} is missing from storage "
                              "(was it written to another files_dir?).", code="file_content_missing") from exc
    headers = {
        "Content-Length": str(record.bytes),
        "Content-Disposition": _attachment(record.filename),
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(chunks, media_type=record.mime_type, headers=headers)


ROUTES: list[Route] = [
    Route("/v1/files", create_file, methods=["POST"]),
    Route("/v1/files", list_files, methods=["GET"]),
    Route("/v1/files/{file_id}", get_file, methods=["GET"]),
    Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
    Route("/v1/files/{file_id}/content", get_file_content, methods=["GET"]),
]
