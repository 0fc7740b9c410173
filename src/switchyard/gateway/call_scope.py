"""The API call being served: who asked, through which surface, under which request id.

One scope per API request (or per background job), entered by the surface and read
wherever a model turn runs (``engine/generation.py``), so metering, limits, logs and
spans share one view of the call without threading it through every signature.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from switchyard.gateway.auth import Principal
from switchyard.gateway.telemetry.request_trace import current_request_id


def new_request_id() -> str:
    """The id the client was given for this request (see ``surfaces/observe.py``), else a new one."""
    return current_request_id() or "req_" + secrets.token_hex(12)


@dataclass(slots=True)
class CallScope:
    principal: Principal
    surface: str  # e.g. "openai.chat", "anthropic.messages", "openai.responses"
    request_id: str = field(default_factory=new_request_id)
    client_ip: str | None = None
    started: float = field(default_factory=time.monotonic)
    deployment_id: str | None = None  # set by the router once a deployment's answer reaches the client


_current: ContextVar[CallScope | None] = ContextVar("switchyard_call_scope", default=None)


def current_scope() -> CallScope | None:
    return _current.get()


@contextlib.contextmanager
def entered(scope: CallScope) -> Iterator[CallScope]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
