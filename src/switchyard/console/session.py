"""Console sign-in: the admin key (or master key) is sealed into an HttpOnly,
SameSite=Strict cookie with the session's CSRF token and expiry. Every request opens
it and authenticates the key again, so a revoked, disabled or expired key ends the
session at once; a project key never gets one."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from switchyard.core.errors import SwitchyardError
from switchyard.gateway.auth import Principal, require_admin
from switchyard.store.secret_box import SecretBox, SecretBoxError, server_secret
from switchyard.surfaces.context import Services, services_of

COOKIE = "sy_console"
BOUND_TO = "switchyard-console-session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Session:
    key: str
    csrf: str
    expires: float
    principal: Principal

    @property
    def who(self) -> str:
        return "master key" if self.principal.is_master else f"admin key {self.principal.key_id}"


def box_of(request: Request) -> SecretBox:
    state = request.app.state
    box = getattr(state, "console_box", None)
    if box is None:
        settings = services_of(request).settings
        box = state.console_box = SecretBox(server_secret(Path(settings.data_dir), settings.secret_key))
    return box


async def authenticate_key(request: Request, services: Services, key: str) -> Principal:
    """The principal of ``key`` if it may administer the organization (else the refusal)."""
    peer = request.client.host if request.client is not None else None
    client_ip = services.client_address.resolve(peer, request.headers)
    principal = await services.auth.authenticate({"authorization": f"Bearer {key}"}, client_ip)
    require_admin(principal)
    return principal


def session_cookie(request: Request, response: Response, key: str, hours: float) -> None:
    sealed = box_of(request).seal({"k": key, "c": secrets.token_urlsafe(24), "e": time.time() + hours * 3600},
                                  BOUND_TO)
    response.set_cookie(COOKIE, sealed, max_age=int(hours * 3600), path="/console", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")


async def current_session(request: Request) -> Session | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = box_of(request).open(raw, BOUND_TO)
    except SecretBoxError:
        return None
    if not isinstance(value, dict) or float(value.get("e", 0)) < time.time():
        return None
    try:
        principal = await authenticate_key(request, services_of(request), str(value["k"]))
    except SwitchyardError:
        return None
    return Session(str(value["k"]), str(value["c"]), float(value["e"]), principal)


async def csrf_ok(request: Request, session: Session) -> bool:
    """The token from the ``X-CSRF-Token`` header, or from the form field of a
    url-encoded form (multipart bodies must use the header: they are streamed on)."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    return given is not None and hmac.compare_digest(given, session.csrf)


Page = Callable[[Request, Services, Session], Awaitable[Response]]


def refused(status: int, message: str) -> Response:
    from switchyard.console.render import render_refusal

    return render_refusal(status, message)


def console_page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    """Signed in (a page asked for without a session redirects to the login form; any
    other call is 401), and a valid CSRF token on every state-changing method (403)."""

    @wraps(handler)
    async def page(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            if request.method == "GET" and "hx-request" not in request.headers:
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                return RedirectResponse(f"/console/login?next={target}", status_code=303)
            return refused(401, "Sign in to the console first.")
        if request.method in UNSAFE_METHODS and not await csrf_ok(request, session):
            return refused(403, "The form's CSRF token is missing or wrong; reload the page and try again.")
        try:
            return await handler(request, services_of(request), session)
        except SwitchyardError as failure:  # an unknown id (404) or a refusal the page did not expect
            return refused(failure.status, failure.message)

    return page


def safe_next(target: Any) -> str:
    """Only a console path: never another site (open redirect)."""
    if isinstance(target, str) and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console/"
