"""Vector store records in OpenAI's wire shapes, and the request fields they share."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_chat.fields import no_nul
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.store.vector_stores import FileBatchRecord, VectorStoreFileRecord, VectorStoreRecord


def store_body(record: VectorStoreRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record.id, "object": "vector_store", "created_at": record.created_at, "name": record.name,
        "usage_bytes": record.usage_bytes, "file_counts": asdict(record.file_counts), "status": record.status,
        "last_active_at": record.last_active_at, "metadata": record.metadata,
        "expires_after": record.expires_after, "expires_at": record.expires_at,
    }
    return body


def file_body(record: VectorStoreFileRecord) -> dict[str, Any]:
    return {
        "id": record.id, "object": "vector_store.file", "created_at": record.created_at,
        "vector_store_id": record.vector_store_id, "status": record.status, "last_error": record.last_error,
        "usage_bytes": record.usage_bytes, "chunking_strategy": record.chunking_strategy,
        "attributes": record.attributes,
    }


def batch_body(record: FileBatchRecord) -> dict[str, Any]:
    return {
        "id": record.id, "object": "vector_store.files_batch", "created_at": record.created_at,
        "vector_store_id": record.vector_store_id, "status": record.status,
        "file_counts": asdict(record.file_counts),
    }


def store_not_found(vector_store_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"Vector store with id '{vector_store_id}' not found.",
                           param="vector_store_id")


def file_not_found(file_id: str, param: str = "file_id") -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"File with id '{file_id}' not found.", param=param)


def expires_after_days(body: dict[str, Any]) -> int | None:
    raw = body.get("expires_after")
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("anchor") != "last_active_at":
        raise invalid("'expires_after.anchor' must be 'last_active_at'.", "expires_after.anchor")
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise invalid("'expires_after.days' must be an integer between 1 and 365.", "expires_after.days")
    return days


def metadata(body: dict[str, Any]) -> dict[str, str] | None:
    return decode_metadata(body.get("metadata"))


def string_list(body: dict[str, Any], key: str, *, limit: int = 500) -> list[str]:
    raw = body.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise invalid(f"'{key}' must be an array of ids.", key)
    if len(raw) > limit:
        raise invalid(f"'{key}' may hold at most {limit} ids.", key)
    for index, value in enumerate(raw):
        no_nul(value, f"{key}[{index}]")
    return raw
