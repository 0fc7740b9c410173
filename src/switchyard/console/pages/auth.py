"""Sign in and out. The login form carries its own CSRF token (a pre-login cookie),
so another site cannot sign a browser in with the attacker's key."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from switchyard.console.render import render
from switchyard.console.session import (
    CSRF_FIELD,
    Session,
    authenticate_key,
    clear_cookie,
    console_page,
    current_session,
    safe_next,
    session_cookie,
)
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.surfaces.context import Services, services_of

LOGIN_COOKIE = "sy_console_login"


def _login_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status=status, error=error, login_csrf=token,
                      next=safe_next(request.query_params.get("next")))
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/console", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def login_page(request: Request) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_form(request)


async def login(request: Request) -> Response:
    form = await request.form()
    token, expected = form.get(CSRF_FIELD), request.cookies.get(LOGIN_COOKIE)
    if not isinstance(token, str) or not expected or not hmac.compare_digest(token, expected):
        return _login_form(request, 403, "The sign-in form expired or came from elsewhere; try again.")
    key = form.get("key")
    services = services_of(request)
    if not isinstance(key, str) or not key.strip():
        return _login_form(request, 400, "Enter an admin key.")
    try:
        await authenticate_key(request, services, key.strip())
    except SwitchyardError as error:
        if error.kind is ErrorKind.PERMISSION:
            return _login_form(request, 403, "Project API keys cannot sign in to the console: use an admin key "
                                             "or the master key.")
        return _login_form(request, 401, f"That key was refused: {error.message}")
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    session_cookie(request, response, key.strip(), services.settings.console_session_hours)
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@console_page
async def logout(request: Request, services: Services, session: Session) -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    clear_cookie(response)
    return response
