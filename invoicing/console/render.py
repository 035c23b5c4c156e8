"""Pages out: Jinja2 templates shipped in the package, rendered into an HTMLResponse with headers
that keep the page to itself (nothing from elsewhere is loaded, framed or posted to)."""

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from babel.numbers import format_currency
from starlette.requests import Request
from starlette.responses import HTMLResponse

from invoicing.console.sessions import Session

if TYPE_CHECKING:
    from jinja2 import Environment, Template

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}


def _money(value: Any, currency: str, locale: str = "en_US") -> str:
    if value is None:
        return ""
    return format_currency(Decimal(str(value)), currency, locale=locale)


def _when(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _day(value: str | date | None) -> str:
    return "" if value is None else str(value)


def _query(values: dict[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**values, **changes}.items() if v not in (None, "", False)}
    return "?" + urlencode(merged) if merged else ""


@cache
def _environment() -> "Environment":
    """Made on the first page: Jinja2 (~3 MB resident) is loaded by processes that serve the
    console only."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("invoicing.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(money=_money, when=_when, day=_day)
    environment.globals.update(query=_query)
    return environment


def _template(name: str) -> "Template":
    return _environment().get_template(name)


def page(
    request: Request,
    template: str,
    session: Session | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = _template(template).render(
        request=request,
        session=session,
        csrf=session.csrf if session else "",
        path=request.url.path,
        errors=context.pop("errors", {}),
        form=context.pop("form", None),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
