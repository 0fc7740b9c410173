"""The 404s of the Assistants API: an unknown id and another project's id answer alike."""

from __future__ import annotations

from switchyard.core.errors import ErrorKind, SwitchyardError


def not_found(kind: str, id: str, param: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No {kind} found with id '{id}'.", param=param)


def file_not_found(file_id: str, param: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No such File object: {file_id}", param=param)


def store_not_found(vector_store_id: str, param: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"Vector store with id '{vector_store_id}' not found.", param=param)
