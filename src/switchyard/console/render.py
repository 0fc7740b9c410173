"""Jinja2 templates (autoescaped) and the filters the pages share."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from switchyard.console.session import CSRF_FIELD, Session


def _when(value: datetime | int | float | None) -> str:
    if value is None:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _usd(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    amount = Decimal(str(value))
    return f"${amount:,.2f}" if abs(amount) >= 1 or amount == 0 else f"${amount:.9f}".rstrip("0")


def _or_dash(value: Any) -> Any:
    return "—" if value is None or value == "" else value


_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("switchyard.console", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_environment.filters.update(when=_when, usd=_usd, dash=_or_dash)
templates = Jinja2Templates(env=_environment)


def render(request: Request, name: str, session: Session | None, status: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("draft", None)  # what a refused form sent, shown again
    return templates.TemplateResponse(request, name, {
        "session": session, "csrf_field": CSRF_FIELD, "csrf": session.csrf if session else "",
        "path": request.url.path, "status": status, **context}, status_code=status)


def render_refusal(status: int, message: str) -> Response:
    page = _environment.get_template("refusal.html").render(status=status, message=message)
    return HTMLResponse(page, status_code=status)
