"""The Images API: ``POST /v1/images/generations`` (JSON), ``/v1/images/edits`` and
``/v1/images/variations`` (multipart), and ``GET /v1/images/files/{id}/content``, where
the ``url`` outputs point.

Uploaded images and masks are streamed to disk with a per-file size limit (413 naming the
field past it) and deleted once the upstream has answered. An image link works without a
key while its signature is valid; without one, it needs a key of the project that made
the image (another project's gets a 404)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from switchyard.codecs.openai_chat import error_body
from switchyard.codecs.openai_images import Operation, check_fields, typed_form_field
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.images.service import ImageContent
from switchyard.gateway.auth import Principal, require_model
from switchyard.providers.openai_images import UploadedFile
from switchyard.store.blobs import image_upload_store
from switchyard.surfaces.context import Services, endpoint, public_base_url, services_of
from switchyard.surfaces.http import JSONResponse, read_json, sse_frame, sse_response
from switchyard.surfaces.multipart import form_parts, read_field
from switchyard.surfaces.openai.errors import render_error

MAX_IMAGES = 16
FILE_FIELDS: dict[Operation, tuple[str, ...]] = {
    "edits": ("image", "image[]", "mask"),
    "variations": ("image",),
}


async def _answer(request: Request, services: Services, principal: Principal, operation: Operation,
                  fields: dict[str, Any], files: list[UploadedFile], cleanup: list[str]) -> Response:
    call = check_fields(operation, fields)
    config, _ = services.images.backend(call)
    require_model(principal, *(n for n in (call.model, config.name) if n))
    if call.stream:
        return await _streamed(services, call, files, cleanup)
    try:
        body = await services.images.create(call, files, principal.owner_id, public_base_url(request, services))
    finally:
        await _delete(services, cleanup)
    return JSONResponse(body)


async def _streamed(services: Services, call: Any, files: list[UploadedFile], cleanup: list[str]) -> Response:
    events = services.images.stream(call, files)
    try:
        first = await anext(events)
    except BaseException:
        await _delete(services, cleanup)
        raise

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield sse_frame(first, first.get("type"))
            async for event in events:
                yield sse_frame(event, event.get("type"))
        except SwitchyardError as error:
            yield sse_frame(error_body(error), "error")
        finally:
            await _delete(services, cleanup)

    return sse_response(frames())


async def _delete(services: Services, keys: list[str]) -> None:
    await image_upload_store(services.settings.data_dir).delete_many(keys)


@endpoint(render_error)
async def create_image(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    return await _answer(request, services, principal, "generations", body, [], [])


async def _read_form(request: Request, services: Services, operation: Operation
                     ) -> tuple[dict[str, Any], list[UploadedFile], list[str]]:
    """The text fields (typed), the files (on disk) and the blob keys to delete afterwards."""
    blobs = image_upload_store(services.settings.data_dir)
    fields: dict[str, Any] = {}
    files: list[UploadedFile] = []
    keys: list[str] = []
    try:
        async for part, body in form_parts(request):
            if part.filename is None:
                if part.name in FILE_FIELDS[operation]:
                    param = "mask" if part.name == "mask" else "image"
                    raise invalid(f"Invalid '{param}': expected a file upload, not a text field.", param,
                                  "invalid_type")
                fields[part.name] = typed_form_field(part.name, await read_field(part, body))
                continue
            if part.name not in FILE_FIELDS[operation]:
                raise invalid(f"Unrecognized file field '{part.name}'; expected one of "
                              f"{', '.join(FILE_FIELDS[operation])}.", part.name, "unknown_parameter")
            if part.name != "mask" and sum(f.field != "mask" for f in files) >= MAX_IMAGES:
                raise invalid(f"Invalid 'image': at most {MAX_IMAGES} images.", "image", "array_above_max_length")
            if part.name == "mask" and any(f.field == "mask" for f in files):
                raise invalid("Invalid 'mask': only one mask may be sent.", "mask")
            param = "mask" if part.name == "mask" else "image"
            stored = await blobs.write_stream(body, services.settings.max_image_upload_bytes, param=param)
            keys.append(stored.key)
            if stored.size == 0:
                raise invalid(f"Invalid '{param}': the file is empty.", param, "empty_file")
            files.append(UploadedFile(part.name, blobs.path(stored.key), part.filename or "image.png",
                                      part.content_type or "application/octet-stream"))
    except BaseException:
        await blobs.delete_many(keys)
        raise
    if not any(f.field != "mask" for f in files):
        await blobs.delete_many(keys)
        raise invalid("Missing required parameter: 'image'.", "image", "missing_required_parameter")
    return fields, files, keys


async def _form_operation(request: Request, services: Services, principal: Principal,
                          operation: Operation) -> Response:
    fields, files, keys = await _read_form(request, services, operation)
    try:
        return await _answer(request, services, principal, operation, fields, files, keys)
    except BaseException:
        await _delete(services, keys)
        raise


@endpoint(render_error)
async def edit_image(request: Request, services: Services, principal: Principal) -> Response:
    return await _form_operation(request, services, principal, "edits")


@endpoint(render_error)
async def create_variation(request: Request, services: Services, principal: Principal) -> Response:
    return await _form_operation(request, services, principal, "variations")


def _image_response(content: ImageContent) -> Response:
    return StreamingResponse(content.chunks, media_type=content.record.mime_type,
                             headers={"content-length": str(content.record.bytes),
                                      "cache-control": "private, max-age=300"})


def _missing(image_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No image found with id '{image_id}' (or its link has expired).",
                           param="image_id", code="not_found")


@endpoint(render_error)
async def _owned_content(request: Request, services: Services, principal: Principal) -> Response:
    image_id = str(request.path_params["image_id"])
    content = await services.images.content(image_id, principal.owner_id)
    if content is None:
        raise _missing(image_id)
    return _image_response(content)


async def image_content(request: Request) -> Response:
    """By signed link (no key), else as an authenticated request of the owning project."""
    signature = request.query_params.get("signature")
    if signature is None:
        return await _owned_content(request)
    services = services_of(request)
    image_id = str(request.path_params["image_id"])
    content = None
    if services.images.valid_link(image_id, request.query_params.get("expires", ""), signature):
        with contextlib.suppress(SwitchyardError):
            content = await services.images.content(image_id, None)
    if content is None:
        return render_error(_missing(image_id))
    return _image_response(content)


ROUTES: list[Route] = [
    Route("/v1/images/generations", create_image, methods=["POST"]),
    Route("/v1/images/edits", edit_image, methods=["POST"]),
    Route("/v1/images/variations", create_variation, methods=["POST"]),
    Route("/v1/images/files/{image_id}/content", image_content, methods=["GET"]),
]
