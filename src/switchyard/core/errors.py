"""One error taxonomy; each surface renders it in its own wire shape."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    REQUEST_TOO_LARGE = "request_too_large"
    RATE_LIMIT = "rate_limit"
    QUOTA = "quota"
    UPSTREAM = "upstream"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    SERVER = "server"


STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.AUTHENTICATION: 401,
    ErrorKind.PERMISSION: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.REQUEST_TOO_LARGE: 413,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.QUOTA: 429,
    ErrorKind.UPSTREAM: 502,
    ErrorKind.OVERLOADED: 503,
    ErrorKind.TIMEOUT: 504,
    ErrorKind.SERVER: 500,
}


class SwitchyardError(Exception):
    """An error that is an answer: it carries what a surface needs to render it."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.param = param
        self.code = code
        self.retry_after = retry_after
        self.status = status if status is not None else STATUS[kind]

    def __repr__(self) -> str:
        return f"SwitchyardError({self.kind.value}, {self.message!r}, param={self.param!r})"


def invalid(message: str, param: str | None = None, code: str | None = None) -> SwitchyardError:
    return SwitchyardError(ErrorKind.INVALID_REQUEST, message, param=param, code=code)


def unsupported(param: str, why: str) -> SwitchyardError:
    return SwitchyardError(
        ErrorKind.INVALID_REQUEST, f"'{param}' is not supported: {why}", param=param,
        code="unsupported_parameter",
    )
