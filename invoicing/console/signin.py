"""Signing in with an admin token, and out."""

import secrets
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from invoicing.console import forms, sessions
from invoicing.console.render import page
from invoicing.console.routing import (
    SIGN_IN,
    Console,
    SignInRequired,
    console_router,
    console_session,
)
from invoicing.console.sessions import COOKIE, LIFETIME
from invoicing.core.errors import ADMIN_REQUIRED, INVALID_TOKEN
from invoicing.tokens.service import authenticate

router = console_router()
# Before there is a session, the sign-in form's CSRF token is a cookie of its own (double submit).
SIGN_IN_COOKIE = "invoicing_console_signin"


def _safe_next(target: str | None) -> str:
    """Only back into the console: never an address elsewhere (`//evil.example`)."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


def _sign_in_page(request: Request, next: str, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "sign_in.html",
        None,
        status=status,
        sign_in_csrf=token,
        next=next,
        errors={"token": error} if error else {},
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=3600,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    try:
        await console_session(request)
    except SignInRequired:
        return _sign_in_page(request, _safe_next(next))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    body = (await request.body()).decode("utf-8", errors="replace")
    form = forms.Form(parse_qsl(body, keep_blank_values=True))
    target = _safe_next(form.optional("next"))
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or not sessions.csrf_matches(expected, form.optional("csrf")):
        return _sign_in_page(request, target, forms.STALE_FORM, 403)
    database = request.app.state.database
    principal = await authenticate(database, form["token"]) if form["token"] else None
    if principal is None:
        return _sign_in_page(request, target, INVALID_TOKEN, 401)
    if not principal.is_admin:
        return _sign_in_page(request, target, ADMIN_REQUIRED, 403)
    async with database.write() as connection:
        secret, _ = await sessions.start(connection, principal)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        request.app.state.console_signer.sign(secret),
        max_age=int(LIFETIME.total_seconds()),
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/admin")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: Console) -> Response:
    await forms.read(request, session.csrf)
    signed = request.cookies.get(COOKIE, "")
    secret = request.app.state.console_signer.unsign(signed)
    if secret:
        async with request.app.state.database.write() as connection:
            await sessions.end(connection, secret)
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(COOKIE, path="/admin")
    return response
